"""durable-rules and the Python reference decide alike: on every default's test cases and on random facts."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import default_source, evaluate, load_ruleset
from rules.vocabulary import (
    BOOLEAN,
    DATE,
    FACT_TYPES,
    INTEGER,
    KINDS,
    NUMBER,
    ROLES,
    STRING,
    STRING_LIST,
)

EVERY_OPERATOR = {"rules": [
    {"id": "nested", "description": "and/or/neq/ex", "fact": "trigger",
     "when": {"$or": [{"$and": [{"kind": "PACK_CONFIRMED"}, {"$nex": {"handling_unit": 1}}]},
                      {"$neq": {"principal_kind": "USER"}, "$ex": {"work_center": 1}}]},
     "then": {"action": "block", "code": "NESTED", "message": "n"}},
    {"id": "bounds", "description": "gte/lte on numbers", "fact": "trigger",
     "when": {"$gte": {"good_quantity": 0.5}, "$lte": {"scrap_quantity": -0.0001}},
     "then": {"action": "block", "code": "BOUNDS", "message": "b"}},
    {"id": "patterns", "description": "mt and imt", "fact": "trigger",
     "when": {"$or": [{"$mt": {"device_id": "LAB-%d+"}}, {"$imt": {"work_center": "rwk.*"}}]},
     "then": {"action": "block", "code": "PATTERN", "message": "p"}},
    {"id": "integers-and-booleans", "description": "integers, booleans", "fact": "requirement",
     "when": {"serialized": True, "$lt": {"serial_count": 2}, "$neq": {"line_no": 10}},
     "then": {"action": "block", "code": "SERIALS", "message": "s"}},
    {"id": "join", "description": "a trigger and a short line", "when_all": [
        {"fact": "trigger", "when": {"$gt": {"good_quantity": 0}}},
        {"fact": "requirement", "when": {"$gt": {"shortfall": 0}}}],
     "then": {"action": "block", "code": "JOIN", "message": "j"}},
    {"id": "always", "description": "every requirement", "fact": "requirement", "when": {},
     "then": {"action": "block", "code": "ALWAYS", "message": "a"}},
], "tests": [{"name": "t", "facts": {}, "expect": []}]}

LIST_OPERATORS = {"rules": [
    {"id": "any-qa", "description": "iany", "fact": "reversal",
     "when": {"$iany": {"requester_roles": {"$or": [{"$i": "QA"}, {"$mt": {"$i": "SUP.*"}}]}}},
     "then": {"action": "require_signatures", "count": 1, "roles": ["QA"], "meaning": "m"}},
    {"id": "all-not-operator", "description": "iall", "fact": "reversal",
     "when": {"$iall": {"requester_roles": {"$neq": {"$i": "OPERATOR"}}}},
     "then": {"action": "require_signatures", "count": 2, "roles": ["QA"], "meaning": "m"}},
    {"id": "dates", "description": "ISO dates order", "fact": "reversal",
     "when": {"$gt": {"age_hours": 48}, "$lte": {"value": 1000}},
     "then": {"action": "require_signatures", "count": 1, "roles": ["SUPERVISOR"], "meaning": "m"}},
], "tests": [{"name": "t", "facts": {}, "expect": []}]}

TEXTS = ["LAB-7", "LAB-x", "lab-7", "RWK-1", "rwk", "WO-1", "", 'a"b', "x\\y", "é", "RM-12", "SUPERVISOR"]
NUMBERS = st.one_of(
    st.sampled_from(["0", "5", "-5", "5.01", "120", "-120", "120.5", "1000", "1000.01", "0.0000001", "1e20"]),
    st.decimals(min_value=-300, max_value=300, places=3, allow_nan=False).map(str),
    st.integers(-300, 300).map(str),
).map(Decimal)


def value_of(field) -> st.SearchStrategy:
    if field.choices:
        return st.sampled_from(field.choices)
    return {
        STRING: st.sampled_from(TEXTS + [str(field.example)]),
        NUMBER: NUMBERS,
        INTEGER: st.integers(-3, 30),
        BOOLEAN: st.booleans(),
        DATE: st.dates().map(lambda d: d.isoformat()),
        STRING_LIST: st.lists(st.sampled_from(ROLES + ("CLOCK_SKEW", "SUPx")), max_size=3),
    }[field.type]


def fact_of(fact_type: str) -> st.SearchStrategy:
    fields = FACT_TYPES[fact_type].fields.values()
    return st.fixed_dictionaries({}, optional={f.name: value_of(f) for f in fields})


def facts_for(kind: str) -> st.SearchStrategy:
    return st.fixed_dictionaries({t: st.lists(fact_of(t), max_size=3) for t in KINDS[kind].facts})


RULESETS = {kind: load_ruleset(default_source(kind), ruleset_id=f"agree-{kind}", version=1, kind=kind)
            for kind in KINDS}
RULESETS["every-operator"] = load_ruleset(EVERY_OPERATOR, ruleset_id="every-operator", version=1, kind="BLOCKING")
RULESETS["list-operators"] = load_ruleset(LIST_OPERATORS, ruleset_id="list-operators", version=1,
                                          kind="REVERSAL_SIGNATURE")


def assert_engines_agree(ruleset, facts) -> None:
    durable = evaluate(ruleset, facts, engine="durable")
    reference = evaluate(ruleset, facts, engine="python-ref")
    assert durable.fired == reference.fired
    assert durable.input_hash == reference.input_hash
    assert (durable.engine, reference.engine) == ("durable", "python-ref")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_both_engines_fire_the_same_rules_on_every_test_case_of_the_default(kind):
    for test in RULESETS[kind].document.tests:
        assert_engines_agree(RULESETS[kind], test.facts)


@pytest.mark.parametrize("name", sorted(RULESETS))
def test_both_engines_fire_the_same_rules_on_random_facts(name):
    ruleset = RULESETS[name]

    @settings(max_examples=120, deadline=None)
    @given(facts_for(ruleset.kind))
    def agree(facts):
        assert_engines_agree(ruleset, facts)
    agree()
