"""A query text the server has parsed without error is not parsed again; a text that failed is parsed (and refused) each time."""
from __future__ import annotations

import uuid

import pytest
import strawberry.schema.schema as strawberry_schema


@pytest.fixture
def parses(monkeypatch):
    """The texts strawberry parsed while the test ran."""
    seen: list[str] = []
    parse = strawberry_schema.parse

    def counting(source, **options):
        seen.append(source)
        return parse(source, **options)
    monkeypatch.setattr(strawberry_schema, "parse", counting)
    return seen


def test_the_same_text_is_parsed_once_and_answered_each_time(api, parses):
    query = f"query {{ items(first: 1) {{ edges {{ node {{ code }} }} }} }} # {uuid.uuid4()}"  # a text never seen

    answers = [api.raw(query, {}).json() for _ in range(3)]

    assert parses == [query]
    assert answers[0] == answers[1] == answers[2] and "errors" not in answers[0]


def test_a_text_that_does_not_parse_is_refused_every_time_and_never_kept(api, parses):
    broken = f"query {{ items(first: 1) {{ # {uuid.uuid4()}"

    responses = [api.raw(broken, {}) for _ in range(2)]

    assert parses == [broken, broken]
    assert responses[0].status_code == responses[1].status_code and responses[0].json() == responses[1].json()
    assert responses[0].json()["errors"][0]["message"].startswith("Syntax Error")


def test_a_text_over_the_token_limit_keeps_its_code_every_time(api, parses):
    too_long = "query { " + " ".join(f"a{n}: __typename" for n in range(5000)) + f" }} # {uuid.uuid4()}"

    codes = [api.raw(too_long, {}).json()["errors"][0]["extensions"]["code"] for _ in range(2)]

    assert codes == ["TOO_MANY_TOKENS"] * 2
    assert len(parses) == 2
