"""The durable-rules adapter, trap by trap (STYLE.md: durable-rules)."""
from __future__ import annotations

import ast
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from rules import RuleSetConflict, default_source, engine, evaluate, load_ruleset

RULES_PACKAGE = Path(__file__).resolve().parents[2] / "rules"


def a_ruleset(ruleset_id: str, when: object, *, fact: str = "candidate_lot", kind: str = "ELIGIBILITY",
              then: dict | None = None, when_all: list | None = None):
    rule = {"id": "r", "description": "d", "then": then or {"action": "exclude", "code": "X", "message": "m"}}
    rule.update({"when_all": when_all} if when_all else {"fact": fact, "when": when})
    document = {"rules": [rule], "tests": [{"name": "t", "facts": {}, "expect": []}]}
    return load_ruleset(document, ruleset_id=ruleset_id, version=1, kind=kind)


def refs(decision) -> list[tuple[str, ...]]:
    return [f.facts for f in decision.fired]


def test_importing_the_rules_package_neither_imports_durable_nor_builds_anything():
    code = "import sys, threading, rules; print('durable' in sys.modules, threading.active_count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=RULES_PACKAGE.parent).stdout.split()
    assert out == ["False", "1"]


def test_the_package_imports_no_database_or_web_library_and_only_the_adapter_imports_durable():
    for path in RULES_PACKAGE.rglob("*.py"):
        imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
        assert not imported & {"sqlalchemy", "sqlmodel", "strawberry", "starlette"}, path
        if path.name != "engine.py":
            assert not imported & {"durable", "durable_rules_engine"}, path


def test_evaluating_starts_no_background_thread():
    before = threading.active_count()
    evaluate(a_ruleset("no-threads", {"status": "REJECTED"}), {"candidate_lot": [{"status": "REJECTED"}]})
    assert threading.active_count() == before


def test_thousands_of_decisions_never_exhaust_durables_1024_live_sessions():
    ruleset = a_ruleset("many-sessions", {"$lt": {"days_to_expiry": 0}})
    for _ in range(1500):
        decision = evaluate(ruleset, {"candidate_lot": [{"days_to_expiry": -1}, {"days_to_expiry": 1}]},
                            engine="durable")
        assert refs(decision) == [("candidate_lot[0]",)]


def test_identical_facts_are_not_deduplicated():
    decision = evaluate(a_ruleset("twins", {"status": "REJECTED"}),
                        {"candidate_lot": [{"status": "REJECTED"}, {"status": "REJECTED"}]})
    assert refs(decision) == [("candidate_lot[0]",), ("candidate_lot[1]",)]


def test_numbers_python_would_print_in_exponent_notation_reach_durable():
    ruleset = a_ruleset("tiny-potency", {"$lt": {"potency": 0.001}, "$gt": {"staged_quantity": 1000}})
    lot = {"potency": Decimal("1E-7"), "staged_quantity": Decimal("1E+20")}
    decision = evaluate(ruleset, {"candidate_lot": [lot]}, engine="durable")
    assert refs(decision) == [("candidate_lot[0]",)]


def test_a_rule_of_only_absence_tests_fires_once_per_fact_and_never_on_durables_own_state():
    decision = evaluate(a_ruleset("absent", {"$nex": {"expires_on": 1}}),
                        {"candidate_lot": [{"lot_number": "L1"}, {"expires_on": "2026-01-01"}]})
    assert refs(decision) == [("candidate_lot[0]",)]


def test_a_fact_meeting_two_branches_of_an_or_fires_the_rule_once():
    ruleset = a_ruleset("both-branches", {"$or": [{"status": "REJECTED"}, {"$lt": {"days_to_expiry": 0}}]})
    decision = evaluate(ruleset, {"candidate_lot": [{"status": "REJECTED", "days_to_expiry": -1}]},
                        engine="durable")
    assert refs(decision) == [("candidate_lot[0]",)]


def test_a_join_fires_once_per_combination_of_distinct_facts():
    ruleset = a_ruleset("join", None, kind="BLOCKING", when_all=[
        {"fact": "trigger", "when": {}}, {"fact": "requirement", "when": {"$gt": {"shortfall": 0}}}],
        then={"action": "block", "code": "SHORT", "message": "m"})
    lines = [{"shortfall": 1}, {"shortfall": 0}, {"shortfall": 2}]
    decision = evaluate(ruleset, {"trigger": [{}], "requirement": lines}, engine="durable")
    assert refs(decision) == [("trigger[0]", "requirement[0]"), ("trigger[0]", "requirement[2]")]


def test_every_pattern_names_its_fact_type():
    ruleset = load_ruleset(default_source("DEVIATION"), ruleset_id="x", version=1, kind="DEVIATION")
    for name, rule in engine.definition(ruleset.document).items():
        for pattern in rule["all"]:
            (condition,) = pattern.values()
            assert "fact" in condition or {"fact"} <= set(condition["$and"][0]), name


def test_a_version_compiles_once_and_cannot_change_afterwards():
    evaluate(a_ruleset("immutable", {"status": "REJECTED"}), {"candidate_lot": []}, engine="durable")
    with pytest.raises(RuleSetConflict):
        evaluate(a_ruleset("immutable", {"status": "ON_HOLD"}), {"candidate_lot": []}, engine="durable")
    assert engine.ruleset_name("immutable", 1) == "rs_immutable_v1"
    assert engine.ruleset_name("a b", 2).startswith("rs_a_b_") and engine.ruleset_name("a b", 2).endswith("_v2")


def test_without_durable_the_python_reference_decides_and_says_so():
    code = """
import sys
sys.modules["durable"] = sys.modules["durable_rules_engine"] = None
from rules import default_source, evaluate, load_ruleset
ruleset = load_ruleset(default_source("BLOCKING"), ruleset_id="b", version=1, kind="BLOCKING")
decision = evaluate(ruleset, {"trigger": [{"clock_skew_seconds": 500}]})
print(decision.engine, decision.block_codes)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=RULES_PACKAGE.parent)
    assert done.stdout.strip() == "python-ref ('CLOCK_SKEW',)"
    assert "durable-rules cannot be imported" in done.stderr


def test_durable_reads_each_fact_as_the_json_encoder_would_write_it_with_numbers_as_plain_doubles():
    """The fact text is written field by field for speed (issue 12): it must stay what json writes."""
    import json
    fact = {"a": Decimal("1E-7"), "b": True, "c": "x\"é\n\u2028", "d": ["p", "q"], "e": 7, "f": Decimal("12.50"),
            "g": Decimal("1E+20"), "h": "1e-5", "i": False, "j": Decimal("-0.000123"), "k": 10**20, "l": []}
    text = engine._fact_json(fact, "candidate_lot", 0, "9")
    assert text == ('{"a":0.0000001,"b":true,"c":"x\\"é\\n\u2028","d":["p","q"],"e":7,"f":12.5,'
                    '"g":100000000000000000000,"h":"1e-5","i":false,"j":-0.000123,'
                    + '"k":100000000000000000000,"l":[],"fact":"candidate_lot","id":"0","sid":"9"}')
    assert json.loads(text)["c"] == fact["c"]
    assert engine._fact_json({}, "trigger", 3, "1") == '{"fact":"trigger","id":"3","sid":"1"}'


def _session_of(ruleset) -> tuple[engine.CompiledRuleSet, str | None]:
    compiled = engine._compiled[(ruleset.id, ruleset.version)]
    return compiled, compiled._sid


def test_a_decision_retracts_what_it_asserted_and_the_next_one_reuses_the_session():
    import json

    import durable_rules_engine
    ruleset = a_ruleset("one-session", None, kind="BLOCKING", when_all=[
        {"fact": "trigger", "when": {}}, {"fact": "requirement", "when": {"$gt": {"shortfall": 0}}}],
        then={"action": "block", "code": "SHORT", "message": "m"})
    facts = {"trigger": [{}], "requirement": [{"shortfall": 1}, {"shortfall": 0}, {"shortfall": 2}]}
    first = evaluate(ruleset, facts, engine="durable")
    compiled, sid = _session_of(ruleset)
    for _ in range(50):
        assert evaluate(ruleset, facts, engine="durable") == first
        assert evaluate(ruleset, {"trigger": [{}], "requirement": [{"shortfall": 0}]}, engine="durable").fired == ()
    assert _session_of(ruleset)[1] == sid
    left = json.loads(durable_rules_engine.get_facts(compiled._handle, sid))
    assert left == [{"fact": engine._SENTINEL, "sid": sid}]


def test_a_decision_that_fails_part_way_leaves_nothing_for_the_next(monkeypatch):
    import durable_rules_engine
    ruleset = a_ruleset("fails-once", {"$lt": {"days_to_expiry": 0}})
    expired = {"candidate_lot": [{"days_to_expiry": -1}, {"days_to_expiry": 1}]}
    assert refs(evaluate(ruleset, expired, engine="durable")) == [("candidate_lot[0]",)]
    sid = _session_of(ruleset)[1]

    def broken(*_args):
        raise RuntimeError("interrupted")
    monkeypatch.setattr(durable_rules_engine, "complete_and_start_action", broken)
    with pytest.raises(RuntimeError, match="interrupted"):
        evaluate(ruleset, expired, engine="durable")
    monkeypatch.undo()
    assert _session_of(ruleset)[1] is None  # the half-used session is gone
    assert refs(evaluate(ruleset, {"candidate_lot": [{"days_to_expiry": 5}]}, engine="durable")) == []
    assert refs(evaluate(ruleset, expired, engine="durable")) == [("candidate_lot[0]",)]
    assert _session_of(ruleset)[1] not in (None, sid)


def test_only_the_fields_and_fact_types_the_patterns_name_reach_durable():
    ruleset = a_ruleset("named-fields", None, kind="BLOCKING", when_all=[
        {"fact": "trigger", "when": {"$or": [{"kind": "PACK_CONFIRMED"}, {"$nex": {"handling_unit": 1}}]}},
        {"fact": "requirement", "when": {"$gt": {"shortfall": 0}, "$mt": {"component_code": "PKG-%d+"}}}],
        then={"action": "block", "code": "X", "message": "m"})
    assert engine.referenced_fields(ruleset.document) == {
        "trigger": {"kind", "handling_unit"}, "requirement": {"shortfall", "component_code"}}
    reversal = load_ruleset(default_source("REVERSAL_SIGNATURE"), ruleset_id="named-items", version=1,
                            kind="REVERSAL_SIGNATURE")
    assert all(fields for fields in engine.referenced_fields(reversal.document).values())


def test_no_fact_field_is_named_like_the_keys_durable_reads_itself():
    from rules.vocabulary import FACT_TYPES
    assert not {f for t in FACT_TYPES.values() for f in t.fields} & {"id", "sid", "fact", "$s"}


def test_the_facts_an_action_of_several_patterns_matched_are_read_off_its_text_in_pattern_order():
    """Values that look like the keys read (a quoted "id", an "f1" key) are escaped text, not keys."""
    import json
    facts = {"f1": {"device_id": 'x"f1":{"id":"9"', "kind": "{\\", "fact": "trigger", "id": "4", "sid": "1"},
             "f0": {"component_code": '\\"id\\":\\"8\\"', "fact": "requirement", "id": "2", "sid": "1"}}
    message = json.dumps({"f1": facts}, separators=(",", ":"), ensure_ascii=False)
    assert engine._matched(message, [(0, "requirement"), (4, "trigger")], 2) == ("requirement[2]", "trigger[0]")
