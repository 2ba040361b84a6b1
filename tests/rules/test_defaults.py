"""The shipped defaults (approved version 1 of each kind) and what they decide."""
from __future__ import annotations

from decimal import Decimal

import pytest

from rules import default_source, evaluate, load_default, load_ruleset, run_document_tests, validate
from rules.cases import judge
from rules.vocabulary import KINDS

ALL_KINDS = sorted(KINDS)


def default_ruleset(kind: str):
    return load_ruleset(default_source(kind), ruleset_id=f"default-{kind.lower()}", version=1, kind=kind)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_kind_ships_a_readable_yaml_default_with_tests(kind):
    document = load_default(kind)
    assert document["rules"] and document["tests"]
    assert default_source(kind).lstrip().startswith("#")  # a commented YAML file, not JSON


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_default_is_valid_on_both_engines(kind):
    validation = validate(default_source(kind), kind)
    assert validation.valid, [str(e) for e in validation.errors]
    assert validation.engines == ("durable", "python-ref")
    assert all(t.passed for t in validation.tests)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_defaults_own_tests_pass_on_the_python_reference(kind):
    results = run_document_tests(default_source(kind), kind)
    assert [(r.name, r.message) for r in results if not r.passed] == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_defaults_own_tests_pass_on_durable_in_the_serving_process(kind):
    ruleset = default_ruleset(kind)
    for test in ruleset.document.tests:
        decision = evaluate(ruleset, test.facts, engine="durable")
        result = judge(test, decision.fired)
        assert result.passed, (test.name, result.message)


def test_expired_and_unreleased_lots_are_excluded_by_candidate():
    decision = evaluate(default_ruleset("ELIGIBILITY"), {"candidate_lot": [
        {"candidate_id": "B1", "lot_number": "L1", "status": "RELEASED", "days_to_expiry": 3},
        {"candidate_id": "B2", "lot_number": "L2", "status": "RELEASED", "days_to_expiry": -1},
        {"candidate_id": "B3", "lot_number": "L3", "status": "QUARANTINE", "days_to_expiry": -9},
    ]})
    assert decision.excluded == {"B2": ("LOT_EXPIRED",), "B3": ("LOT_EXPIRED", "LOT_NOT_RELEASED")}


@pytest.mark.parametrize("skew, blocked", [("120", False), ("120.001", True), ("-120", False),
                                           ("-121", True), ("0", False)])
def test_clock_skew_beyond_120_seconds_blocks(skew, blocked):
    decision = evaluate(default_ruleset("BLOCKING"), {"trigger": [
        {"work_order_number": "WO-1", "clock_skew_seconds": Decimal(skew)}]})
    assert decision.blocked is blocked
    assert decision.block_codes == (("CLOCK_SKEW",) if blocked else ())


def test_a_blocked_flush_and_a_large_variance_open_one_deviation_each():
    decision = evaluate(default_ruleset("DEVIATION"), {
        "blocked_flush": [{"work_order_number": "WO-1", "reason_codes": ["CLOCK_SKEW"]}],
        "close_variance": [{"component_code": "RM-1", "variance_percent": Decimal("-5.01")},
                           {"component_code": "RM-2", "variance_percent": Decimal("5.00")}],
    })
    assert [(d.category, d.facts) for d in decision.deviations] == [
        ("BLOCKED_FLUSH", ("blocked_flush[0]",)), ("USAGE_VARIANCE", ("close_variance[0]",))]


@pytest.mark.parametrize("reversal, count, signers, met", [
    ({"value": Decimal("200"), "output_lot_status": "QUARANTINE"}, 1, {"ann": ["SUPERVISOR"]}, True),
    ({"value": Decimal("200"), "output_lot_status": "QUARANTINE"}, 1, {"ann": ["OPERATOR"]}, False),
    ({"value": Decimal("200"), "output_lot_status": "RELEASED"}, 2, {"ann": ["SUPERVISOR"], "bob": ["QA"]}, True),
    ({"value": Decimal("200"), "output_lot_status": "RELEASED"}, 2,
     {"ann": ["SUPERVISOR"], "bob": ["SUPERVISOR"]}, False),
    ({"value": Decimal("1000.01"), "output_lot_status": "ON_HOLD"}, 2, {"ann": ["QA"], "bob": ["QA"]}, True),
    ({"value": Decimal("1000.01"), "output_lot_status": "ON_HOLD"}, 2, {"ann": ["QA", "SUPERVISOR"]}, False),
])
def test_reversals_need_one_signature_or_two_distinct_signers_one_of_them_qa(reversal, count, signers, met):
    policy = evaluate(default_ruleset("REVERSAL_SIGNATURE"), {"reversal": [reversal]}).signatures
    assert policy.count == count
    assert policy.roles == ("QA", "SUPERVISOR")
    assert policy.meaning == "Reversal approved"
    assert policy.is_met_by(signers) is met
