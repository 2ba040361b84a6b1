"""Plain subtrees completed in one pass (api/plain_execution.py) give what graphql-core gives, errors included."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from decimal import Decimal
from types import SimpleNamespace

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.plain_execution import PlainSubtreeExecutionContext
from api.scalars import SCALAR_MAP
from api.walls import Rule, Walls


@strawberry.interface
class Named:
    name: str | None


@strawberry.type
class Part(Named):
    quantity: Decimal
    tags: list[str]
    maybe: Part | None = None

    @strawberry.field
    def label(self) -> str:
        return f"{self.name}:{self.quantity}"

    @strawberry.field
    def needs_info(self, info: strawberry.Info) -> str:
        return "info"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("broken resolver")

    @strawberry.field
    def not_a_number(self) -> int:
        return "seven"  # type: ignore[return-value] — the Int scalar refuses it


@strawberry.type
class Query:
    @strawberry.field
    def parts(self) -> list[Part]:
        return [Part(name="a", quantity=Decimal("1.50"), tags=["x"]),
                Part(name="b", quantity=Decimal("2"), tags=[], maybe=Part(name="c", quantity=Decimal("0.1"), tags=["y"])),
                Part(name=None, quantity=Decimal("3"), tags=["z"])]

    @strawberry.field
    def named(self) -> list[Named]:
        return self.parts()

    @strawberry.field
    def repeated(self) -> list[Part]:  # one object at several places, and one shared by two parents
        shared = Part(name="s", quantity=Decimal("4"), tags=["w"])
        first = Part(name="p", quantity=Decimal("5"), tags=[], maybe=shared)
        return [first, shared, first, Part(name="q", quantity=Decimal("6"), tags=[], maybe=shared)]

    @strawberry.field
    def sparse(self) -> list[Part | None]:  # a null among objects, in a list that allows it
        return [Part(name="t", quantity=Decimal("7"), tags=[]), None]


@strawberry.type
class Secret:
    shown: str
    hidden: str


@strawberry.type
class Events:
    @strawberry.subscription
    async def secrets(self) -> AsyncGenerator[Secret, None]:
        for n in range(3):
            yield Secret(shown=f"s{n}", hidden=f"h{n}")


def schemas():
    config = StrawberryConfig(scalar_map=SCALAR_MAP)
    return (strawberry.Schema(query=Query, config=config),
            strawberry.Schema(query=Query, config=config, execution_context_class=PlainSubtreeExecutionContext))


QUERIES = [
    "{ parts { __typename name quantity tags label maybe { name label maybe { name } } } }",
    "{ parts { name needsInfo } }",  # a resolver that takes info: graphql-core's path
    "{ parts { name broken } }",  # a resolver that raises: the same error, at the same path
    "{ parts { name notANumber } }",  # a leaf the scalar refuses: the same error, at the leaf's path
    "{ named { name ... on Part { label } } }",  # an interface: graphql-core resolves the type
    "{ parts { ...F } } fragment F on Part { name alias: label skipped: quantity @skip(if: true) }",
    "{ repeated { name quantity maybe { name label } } }",
    "{ repeated { name } parts { name maybe { name } } }",
    "{ sparse { name maybe { name } } }",
    "{ repeated { name @skip(if: true) maybe { label @include(if: false) } } }",  # selections left empty
    "{ repeated { name maybe { broken } } }",  # an error under a shared object: graphql-core's path
]


def test_every_query_gives_the_same_data_and_errors_either_way():
    generic, plain = schemas()
    for query in QUERIES:
        expected, got = generic.execute_sync(query), plain.execute_sync(query)
        assert got.data == expected.data, query
        assert [(e.message, e.path) for e in got.errors or []] == [(e.message, e.path) for e in expected.errors or []]


def test_a_null_where_the_schema_says_non_null_is_the_same_error():
    generic, plain = schemas()

    @strawberry.type
    class Strict:
        @strawberry.field
        def parts(self) -> list[Part]:
            return [Part(name="a", quantity=None, tags=["x"])]  # type: ignore[arg-type]

    for schema in (strawberry.Schema(query=Strict), strawberry.Schema(
            query=Strict, execution_context_class=PlainSubtreeExecutionContext)):
        result = schema.execute_sync("{ parts { name quantity } }")
        assert result.data is None
        assert [(e.message, e.path) for e in result.errors] == [
            ("Cannot return null for non-nullable field Part.quantity.", ["parts", 0, "quantity"])]


def test_every_event_of_a_subscription_goes_through_the_walls_not_only_the_first():
    """Each event runs in a copy of the subscription's executor; the plain execution lets go of the walls once an
    answer is built (its payload then dies with the response), which must leave no later event without them."""
    rules = {("Secret", "hidden"): Rule(grant=frozenset({"secrets:read"}), sited=False, nullable=False)}
    schema = strawberry.Schema(query=Query, subscription=Events, extensions=[lambda: Walls(rules)],
                               execution_context_class=PlainSubtreeExecutionContext)
    reader = SimpleNamespace(principal=SimpleNamespace(has_scope=lambda scope: False, sites=frozenset({"*"})))

    async def events():
        return [event async for event in await schema.subscribe("subscription { secrets { shown hidden } }",
                                                                 context_value=reader)]

    answers = asyncio.run(events())

    assert len(answers) == 3
    for answer in answers:
        assert answer.data is None
        assert [(e.path, e.extensions["code"]) for e in answer.errors] == [(["secrets", "hidden"], "FORBIDDEN")]


def test_the_answers_shapes_kept_are_bounded_whatever_aliases_clients_choose():
    """Response keys are the client's aliases; each new set of them makes a new dict maker, and no more than
    MAKERS are kept."""
    from api.plain_execution import MAKERS, _dict_maker

    _, plain = schemas()
    for n in range(MAKERS + 40):
        assert plain.execute_sync(f"{{ parts {{ alias{n}: name }} }}").data["parts"][0] == {f"alias{n}": "a"}

    assert _dict_maker.cache_info().currsize <= MAKERS
