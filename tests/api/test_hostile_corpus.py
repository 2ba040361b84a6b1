"""A hostile corpus posted to every mutation, generated from the served schema by introspection.

For every Mutation field and every leaf of its arguments (nested input objects and lists included),
each hostile value of the leaf's type replaces a baseline value. Every answer must be HTTP 200 with
coded errors only — a userErrors entry with a code, or a GraphQL error with `extensions.code` — never
"Unexpected error.", and no table may gain or lose a row. A new mutation or input field is covered the
day it is added.
"""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

import models
from api.app import create_app
from api.ids import encode
from backflush.services.demo import seed_demo
from kernel.database import session_factory
from kernel.settings import Settings
from tests.api.conftest import Api, Principals

INTROSPECTION = """
{ __schema {
    mutationType { fields { name args { name type { ...T } } type { ...T } } }
    types { kind name inputFields { name type { ...T } } enumValues { name } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
"""

LONG = "L" * 100_000
TEXT_CORPUS = [
    LONG, "A" * 5_000, "nul\x00byte", "\x00", "esc\x1b[2J", "bell\x07", "del\x7f", "c1\x85next", "\u202egnp.exe",
    "iso\u2066late", "lone\ud800surrogate", "\udfff", "line\nbreak\x00", "\x00" * 500,
]
DECIMAL_CORPUS = [
    "1_0", "１２", "٣", "1e400", "1E-400", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1" * 40,
    "0." + "0" * 40 + "1", "9" * 400, " 1", "1 ", "", "+", "-", ".", "1.2.3", "0x1F", "1,5", "--1", "1\x00",
    1.5, 10 ** 40, -(10 ** 40), True, [], {"value": "1"}, "\u202e1",
]
DATETIME_CORPUS = [
    "2026-01-01T08:00:00", "2020-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday", "", "1" * 5_000,
    "2026-01-01T08:00:00\x00", 1_700_000_000, True, {"at": "now"},
]
DATE_CORPUS = ["2020-02-30", "0001-01-01", "9999-12-31", "2026-02-29", "31/12/2027", "", "2027-06-30\x00",
               20270630, ["2027-06-30"]]
ID_CORPUS = [encode("Lot", 10 ** 30), encode("Lot", 2 ** 63), encode("Lot", -1), encode("Lot", 0), "TG90OjE\x00",
             "%%%", "A" * 5_000, encode("Lot", "1_0"), "\ud800"]
INT_CORPUS = [2 ** 31, -(2 ** 31) - 1, 2 ** 63, 10 ** 40, "1", 1.5, True, None, "NaN"]
BOOLEAN_CORPUS = ["true", 2, "\x00", [True]]
JSON_CORPUS = ["\x00", {"k\x00": 1}, {"rules": ["\ud800"]}, {"a": "\u202e"}, LONG,
               json.loads("[" * 200 + "]" * 200)]

CORPUS = {"String": TEXT_CORPUS, "Decimal": DECIMAL_CORPUS, "DateTime": DATETIME_CORPUS, "Date": DATE_CORPUS,
          "ID": ID_CORPUS, "Int": INT_CORPUS, "Boolean": BOOLEAN_CORPUS, "JSON": JSON_CORPUS}
ENUM_CORPUS = ["NOT_A_VALUE", "\x00", 1, None]
BASELINE = {"String": "corpus", "Decimal": "1", "DateTime": "2026-01-01T08:00:00Z",
            "Date": date.today().replace(year=date.today().year + 1).isoformat(), "Int": 10, "Boolean": False,
            "JSON": {}}


def unwrap(kind: dict) -> tuple[dict, bool, bool]:
    """(named type, required, list)."""
    required = listed = False
    if kind["kind"] == "NON_NULL":
        required, kind = True, kind["ofType"]
    if kind["kind"] == "LIST":
        listed, kind = True, kind["ofType"]
        if kind["kind"] == "NON_NULL":
            kind = kind["ofType"]
    return kind, required, listed


class Shapes:
    def __init__(self, schema: dict, ids: dict):
        self.types = {t["name"]: t for t in schema["types"]}
        self.ids = ids

    def baseline(self, kind: dict, name: str):
        named, _, listed = unwrap(kind)
        value = self._one(named, name)
        return [value] if listed else value

    def _one(self, named: dict, name: str):
        definition = self.types[named["name"]]
        if definition["kind"] == "INPUT_OBJECT":
            return {f["name"]: self.baseline(f["type"], f["name"]) for f in definition["inputFields"]}
        if definition["kind"] == "ENUM":
            return definition["enumValues"][0]["name"]
        if named["name"] == "ID":
            return self.ids.get(name, self.ids["default"])
        return BASELINE[named["name"]]

    def leaves(self, kind: dict, path: tuple):
        """(path, named type, required) of every scalar or enum position reachable from `kind`."""
        named, required, listed = unwrap(kind)
        definition = self.types[named["name"]]
        here = (*path, 0) if listed else path
        if definition["kind"] == "INPUT_OBJECT":
            for f in definition["inputFields"]:
                yield from self.leaves(f["type"], (*here, f["name"]))
        else:
            yield here, definition, required

    def hostile(self, definition: dict) -> list:
        return ENUM_CORPUS if definition["kind"] == "ENUM" else CORPUS[definition["name"]]


def replaced(value, path: tuple, new):
    if not path:
        return new
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def document(field: dict) -> str:
    declared = ", ".join(f"${a['name']}: {type_text(a['type'])}" for a in field["args"])
    passed = ", ".join(f"{a['name']}: ${a['name']}" for a in field["args"])
    return f"mutation ({declared}) {{ {field['name']}({passed}) {{ userErrors {{ code field }} }} }}"


def type_text(kind: dict) -> str:
    if kind["kind"] == "NON_NULL":
        return type_text(kind["ofType"]) + "!"
    if kind["kind"] == "LIST":
        return f"[{type_text(kind['ofType'])}]"
    return kind["name"]


def row_counts(sessions) -> dict[str, int]:
    with sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in models.metadata.sorted_tables}


def send(api, query: str, variables: dict):
    """ASCII JSON, as any client may send it: lone surrogates travel as \\ud800 escapes."""
    return api.client.post("/graphql", content=json.dumps({"query": query, "variables": variables}),
                           headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"})


def masked_or_uncoded(response, field_name: str) -> str | None:
    """Why this answer breaks the contract, or None when every refusal carries a code."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    if "Unexpected error" in response.text:
        return "Unexpected error."
    body = response.json()
    if body.get("errors"):
        uncoded = [e["message"] for e in body["errors"] if not (e.get("extensions") or {}).get("code")]
        return f"uncoded GraphQL errors {uncoded}" if uncoded else None
    payload = body["data"][field_name]
    if not payload["userErrors"]:
        return "accepted"
    return None if all(e["code"] for e in payload["userErrors"]) else "a user error without a code"


@pytest.fixture
def api(engine, database_url):
    """The API of conftest, with the rate limit off: the corpus is thousands of requests in a minute."""
    principals = Principals(session_factory(engine))
    principals.add_user("qa", roles=("QA",))
    app = create_app(Settings(database_url=database_url, rate_limit="off"), authenticate=principals.authenticate)
    with TestClient(app) as client:
        yield Api(client, principals)


@pytest.fixture
def shapes(api, sessions) -> Shapes:
    seed_demo(sessions)
    with sessions() as s:
        lot = s.scalar(select(models.Lot.id))
        location = s.scalar(select(models.Location.id))
        ids = {"default": encode("Lot", lot), "lotId": encode("Lot", lot), "locationId": encode("Location", location),
               "workOrderId": encode("WorkOrder", s.scalar(select(models.WorkOrder.id)))}
    schema = api(INTROSPECTION)["__schema"]
    return Shapes(schema, ids), schema["mutationType"]["fields"]


def test_the_corpus_reaches_every_mutation_and_every_kind_of_leaf(shapes):
    shape, fields = shapes
    names = {f["name"] for f in fields}
    assert {"receiveGoods", "postTrigger", "createSite", "createRuleSetDraft", "closeWorkOrder"} <= names
    kinds = {d["name"] if d["kind"] != "ENUM" else "ENUM"
             for f in fields for a in f["args"] for _, d, _ in shape.leaves(a["type"], (a["name"],))}
    assert kinds == {"String", "Decimal", "DateTime", "Date", "ID", "Int", "Boolean", "JSON", "ENUM"}


def test_no_hostile_value_in_any_mutation_is_masked_accepted_or_written(api, sessions, shapes):
    shape, fields = shapes
    failures, sent = [], 0
    before = row_counts(sessions)
    for field in fields:
        query = document(field)
        base = {a["name"]: shape.baseline(a["type"], a["name"]) for a in field["args"]}
        for argument in field["args"]:
            for path, definition, required in shape.leaves(argument["type"], (argument["name"],)):
                for value in shape.hostile(definition):
                    if value is None and not required:
                        continue  # leaving out an optional value is not hostile
                    response = send(api, query, replaced(base, path, value))
                    sent += 1
                    if why := masked_or_uncoded(response, field["name"]):
                        failures.append(f"{field['name']} {'.'.join(map(str, path))} = {value!r:.60}: {why}")
    assert sent > 2_000
    assert failures == []
    assert row_counts(sessions) == before
