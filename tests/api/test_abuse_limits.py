"""One request cannot stall the server: aliases, tokens, depth, cost, time, body size and rate are limited.

Timings are taken on the event loop that serves the app (httpx's ASGI transport), so a request that
blocks the loop or floods the worker threads delays the probe exactly as it would delay other clients.
Each bound is checked on the best of three rounds, against a baseline measured in the same test.
"""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import event

from api.app import create_app
from kernel.settings import Settings
from tests.api.conftest import Principals
from tests.builders import Plant, line, qa_user

NESTED = "workOrders { edges { node { number triggers { edges { node { id } } } } } }"
PROBE = '{ workOrder(number: "WO-0") { number } }'
ROUNDS = 5


def aliased(count: int, selection: str = NESTED) -> str:
    return "{ " + " ".join(f"a{n}: {selection}" for n in range(count)) + " }"


@pytest.fixture
def anyio_backend():
    return "asyncio"


def build_app(engine, database_url, **limits):
    principals = Principals(engine_sessions(engine))
    principals.add_user("qa", roles=("QA",))
    principals.add_user("other", roles=("QA",))
    return create_app(Settings(database_url=database_url, **limits), authenticate=principals.authenticate)


def engine_sessions(engine):
    from kernel.database import session_factory
    return session_factory(engine)


@pytest.fixture
def plant(sessions):
    plant = Plant(sessions, qa_user(sessions, "planner"))
    plant.item("C1", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C1", "1")])
    for n in range(5):
        plant.work_order(f"WO-{n}", "FG")
    return plant


def client_for(app, token="qa") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backflush.test",
                             headers={"Authorization": f"Bearer {token}"}, timeout=120)


async def timed(client: httpx.AsyncClient, query: str, variables: dict | None = None) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    return time.perf_counter() - start, response


async def probe_during(client: httpx.AsyncClient, attack: str) -> tuple[float, float, httpx.Response]:
    """Send the attack, then the probe while the attack is in flight: (attack time, probe time, attack response)."""
    attack_task = asyncio.create_task(timed(client, attack))
    await asyncio.sleep(0)  # the attack is on its way before the probe leaves
    probe_time, probe = await timed(client, PROBE)
    attack_time, response = await attack_task
    assert probe.json() == {"data": {"workOrder": {"number": "WO-0"}}}
    return attack_time, probe_time, response


async def baseline(client: httpx.AsyncClient) -> float:
    return min([(await timed(client, PROBE))[0] for _ in range(ROUNDS)])


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert body.get("data") is None, body
    return body["errors"][0]["extensions"]["code"]


@pytest.mark.anyio
async def test_a_thousand_aliases_of_a_nested_connection_are_refused_in_100_ms_and_delay_no_one(
        plant, engine, database_url):
    async with client_for(build_app(engine, database_url)) as client:
        alone = await baseline(client)
        rounds = [await probe_during(client, aliased(1000)) for _ in range(ROUNDS)]

    assert [error_code(response) for *_, response in rounds] == ["TOO_MANY_TOKENS"] * ROUNDS
    assert_quick_and_harmless(rounds, alone)


def assert_quick_and_harmless(rounds, alone: float) -> None:
    attack_time = min(attack for attack, *_ in rounds)
    probe_delay = min(probe for _, probe, _ in rounds) - alone
    assert attack_time < 0.100, f"refused in {attack_time * 1000:.0f} ms"
    assert probe_delay < 0.100, f"the concurrent query waited {probe_delay * 1000:.0f} ms longer than alone"


@pytest.mark.anyio
async def test_a_thousand_aliases_within_the_token_limit_are_refused_before_graphql_validation_runs(
        plant, engine, database_url, monkeypatch):
    # graphql-core's validation of 1,000 aliased fields takes seconds (its overlapping-fields rule is
    # quadratic): the alias limit must act before it, leaving the parse as the only cost.
    import strawberry.schema.schema as strawberry_schema
    validations = []
    real_validate = strawberry_schema.validate_document
    monkeypatch.setattr(strawberry_schema, "validate_document",
                        lambda *args: validations.append(args) or real_validate(*args))
    async with client_for(build_app(engine, database_url, max_tokens=100_000)) as client:
        _, refused = await timed(client, aliased(1000))
        _, served = await timed(client, aliased(2, "__typename"))

    assert error_code(refused) == "TOO_MANY_ALIASES"
    assert refused.json()["errors"][0]["message"] == "1000 aliases found. Allowed: 50"
    assert len(served.json()["data"]) == 2
    assert len(validations) == 1  # the served query's


@pytest.mark.anyio
async def test_a_document_of_200_thousand_tokens_is_refused_without_stalling_others(plant, engine, database_url):
    huge = "{ " + "a " * 200_000 + "}"  # 400 kB: under the body limit
    async with client_for(build_app(engine, database_url)) as client:
        alone = await baseline(client)
        rounds = [await probe_during(client, huge) for _ in range(ROUNDS)]

    assert [error_code(response) for *_, response in rounds] == ["TOO_MANY_TOKENS"] * ROUNDS
    assert "more than 1000 tokens" in rounds[0][2].json()["errors"][0]["message"]
    assert_quick_and_harmless(rounds, alone)


@pytest.mark.anyio
async def test_fifty_aliases_pass_and_fifty_one_are_refused(plant, engine, database_url):
    async with client_for(build_app(engine, database_url)) as client:
        _, fifty = await timed(client, aliased(50, "__typename"))
        _, fifty_one = await timed(client, aliased(51, "__typename"))

    assert len(fifty.json()["data"]) == 50
    assert error_code(fifty_one) == "TOO_MANY_ALIASES"


@pytest.mark.anyio
async def test_a_query_deeper_than_the_limit_is_refused_as_too_deep(plant, engine, database_url):
    async with client_for(build_app(engine, database_url, max_query_depth=3)) as client:
        _, shallow = await timed(client, '{ workOrder(number: "WO-0") { item { code } } }')
        _, deep = await timed(client, '{ workOrders { edges { node { item { code } } } } }')

    assert shallow.json()["data"]["workOrder"]["item"]["code"] == "FG"
    assert error_code(deep) == "QUERY_TOO_DEEP"


# The cost of a field is 1 plus the cost of its selection; a field taking `first` costs that many times as
# much (the default `first` when the client does not say); a document costs its most expensive operation.
COST_CASES = [
    # query, variables, expected cost
    ('{ workOrder(number: "WO-0") { number item { code } } }', {}, 4),
    ("{ workOrders(first: 10) { edges { node { number } } } }", {}, 40),
    ("{ workOrders { edges { node { number } } } }", {}, 400),
    ("{ workOrders(first: 10) { edges { node { triggers(first: 20) { edges { node { id } } } } } } }", {}, 830),
    ("query ($n: Int) { workOrders(first: $n) { edges { node { number } } } }", {"n": 7}, 28),
    ("query ($n: Int) { workOrders(first: $n) { edges { node { number } } } }", {}, 400),
    ("{ workOrders(first: 2) { ...page } } fragment page on WorkOrderConnection { edges { node { number } } }", {}, 8),
]


@pytest.mark.parametrize("query, variables, cost", COST_CASES)
def test_the_cost_of_a_query_is_fields_times_first_down_the_nesting(query, variables, cost):
    from graphql import parse

    from api.query_cost import query_cost
    from api.schema import build_schema

    schema = build_schema()._schema
    assert query_cost(schema, parse(query), variables, default_first=100, ceiling=10**9) == cost


@pytest.mark.anyio
async def test_nested_connections_over_the_cost_budget_are_refused_with_their_cost(plant, engine, database_url):
    costly = "{ workOrders(first: 100) { edges { node { triggers(first: 100) { edges { node { id } } } } } } }"
    async with client_for(build_app(engine, database_url)) as client:
        _, refused = await timed(client, costly)
        _, by_variable = await timed(client, "query ($n: Int) { workOrders(first: $n) { edges { node { number "
                                             "triggers(first: $n) { edges { node { id } } } } } } }", {"n": 500})
        _, allowed = await timed(client, costly.replace("100", "10"))

    assert error_code(refused) == "QUERY_TOO_COMPLEX"
    assert refused.json()["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 40300, "budget": 10000}
    assert error_code(by_variable) == "QUERY_TOO_COMPLEX"
    assert len(allowed.json()["data"]["workOrders"]["edges"]) == 5


def slow_statements(engine, seconds: float):
    def pause(*_args):
        time.sleep(seconds)
    event.listen(engine, "before_cursor_execute", pause)
    return lambda: event.remove(engine, "before_cursor_execute", pause)


@pytest.mark.anyio
async def test_a_query_running_past_the_timeout_is_stopped_with_a_coded_error(plant, engine, database_url):
    app = build_app(engine, database_url, query_timeout_seconds=0.4)
    restore = slow_statements(app.state.engine, 0.5)
    try:
        async with client_for(app) as client:
            # workOrders, then each order's item and triggers: two rounds of 0.5 s statements at least
            took, response = await timed(client, "{ workOrders(first: 5) { edges { node { item { code } "
                                                 "triggers(first: 5) { edges { node { id } } } } } } }")
    finally:
        restore()

    assert error_code(response) == "QUERY_TIMEOUT"
    assert took < 0.8  # answered at the deadline, not when the statements already running are done


@pytest.mark.anyio
async def test_a_mutation_is_never_cut_short_by_the_timeout(plant, engine, database_url):
    app = build_app(engine, database_url, query_timeout_seconds=0.2)
    restore = slow_statements(app.state.engine, 0.1)
    try:
        async with client_for(app) as client:
            _, response = await timed(client, 'mutation { createItem(input: {code: "SLOW", name: "Slow", baseUom: "kg", '
                                              'precision: 3}) { item { code } userErrors { code } } }')
    finally:
        restore()

    assert response.json() == {"data": {"createItem": {"item": {"code": "SLOW"}, "userErrors": []}}}


@pytest.mark.anyio
async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(plant, engine, database_url):
    app = build_app(engine, database_url, max_body_bytes=1000)
    async with client_for(app) as client:
        declared = await client.post("/graphql", json={"query": PROBE, "variables": {"pad": "x" * 1000}})

        async def chunks():
            for _ in range(10):
                yield b" " * 200
        streamed = await client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
        _, fits = await timed(client, PROBE)

    for refused in (declared, streamed):
        assert refused.status_code == 413
        assert refused.json()["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE", "limit": 1000}
    assert fits.json() == {"data": {"workOrder": {"number": "WO-0"}}}


@pytest.mark.anyio
async def test_a_caller_over_its_rate_gets_429_with_retry_after_and_others_are_served(plant, engine, database_url):
    app = build_app(engine, database_url, rate_limit="3/minute")
    async with client_for(app) as qa, client_for(app, token="other") as other:
        served = [(await timed(qa, PROBE))[1].status_code for _ in range(3)]
        _, refused = await timed(qa, PROBE)
        _, someone_else = await timed(other, PROBE)

    assert served == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert someone_else.status_code == 200


@pytest.mark.anyio
async def test_a_rate_limit_switched_off_counts_nothing(plant, engine, database_url):
    async with client_for(build_app(engine, database_url, rate_limit="off")) as client:
        statuses = {(await timed(client, PROBE))[1].status_code for _ in range(5)}

    assert statuses == {200}


def test_the_limits_come_from_the_environment():
    settings = Settings.from_env({
        "BACKFLUSH_MAX_ALIASES": "10", "BACKFLUSH_MAX_TOKENS": "800", "BACKFLUSH_MAX_QUERY_DEPTH": "6",
        "BACKFLUSH_MAX_QUERY_COST": "2500", "BACKFLUSH_DEFAULT_FIRST": "20", "BACKFLUSH_QUERY_TIMEOUT": "2.5",
        "BACKFLUSH_MAX_BODY_BYTES": "65536", "BACKFLUSH_RATE_LIMIT": "100/second",
    })
    assert (settings.max_aliases, settings.max_tokens, settings.max_query_depth, settings.max_query_cost,
            settings.default_first, settings.query_timeout_seconds, settings.max_body_bytes, settings.rate_limit) == \
        (10, 800, 6, 2500, 20, 2.5, 65536, "100/second")
    assert (Settings().max_aliases, Settings().max_tokens, Settings().max_query_cost, Settings().default_first,
            Settings().query_timeout_seconds, Settings().max_body_bytes, Settings().rate_limit) == \
        (50, 1000, 10000, 100, 30.0, 1_048_576, "1200/minute")


@pytest.mark.anyio
async def test_the_default_limits_let_graphiqls_introspection_query_through(plant, engine, database_url):
    from graphql import get_introspection_query
    introspection = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                            schema_description=True, input_value_deprecation=True)
    async with client_for(build_app(engine, database_url)) as client:
        _, response = await timed(client, introspection)

    assert "errors" not in response.json()
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
