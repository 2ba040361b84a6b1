"""Decisions are computed by our code from the firings, in a fixed order — never engine order."""
from __future__ import annotations

import random
from decimal import Decimal

from rules import evaluate, load_ruleset
from rules.decision import Firing, decide

FACTS = {"candidate_lot": [{"candidate_id": "B1", "lot_number": "L1"}, {"lot_number": "L2"}]}


def a_decision(*firings: Firing, facts: dict | None = None):
    return decide(ruleset_id="rs", version=3, engine="test", input_hash="h", firings=firings,
                  facts=facts or FACTS)


def block(rule_id: str, code: str) -> Firing:
    return Firing(rule_id, "block", {"code": code, "message": code.lower()}, ("trigger[0]",))


def signatures(rule_id: str, count: int, roles: list[str], meaning: str) -> Firing:
    return Firing(rule_id, "require_signatures", {"count": count, "roles": roles, "meaning": meaning},
                  ("reversal[0]",))


def test_firings_are_ordered_by_rule_id_whatever_order_the_engine_reported():
    firings = [block("c-rule", "C"), block("a-rule", "A"), block("b-rule", "B")]
    shuffled = random.Random(7).sample(firings, k=3)
    assert a_decision(*firings) == a_decision(*shuffled)
    assert [f.rule_id for f in a_decision(*shuffled).fired] == ["a-rule", "b-rule", "c-rule"]


def test_any_block_blocks_and_every_code_is_listed():
    decision = a_decision(block("skew", "CLOCK_SKEW"), block("lab", "LAB_DEVICE"), block("lab2", "LAB_DEVICE"))
    assert decision.blocked
    assert decision.block_codes == ("CLOCK_SKEW", "LAB_DEVICE")
    assert [r.rule_id for r in decision.block_reasons] == ["lab", "lab2", "skew"]


def test_nothing_fired_blocks_nothing_excludes_nothing_and_requires_no_signature():
    decision = a_decision()
    assert (decision.blocked, decision.excluded, decision.deviations, decision.signatures) == (False, {}, (), None)


def test_exclusions_are_keyed_by_candidate_id_else_lot_number_with_every_code():
    decision = a_decision(
        Firing("expired", "exclude", {"code": "LOT_EXPIRED", "message": "m"}, ("candidate_lot[0]",)),
        Firing("held", "exclude", {"code": "LOT_NOT_RELEASED", "message": "m"}, ("candidate_lot[0]",)),
        Firing("held", "exclude", {"code": "LOT_NOT_RELEASED", "message": "m"}, ("candidate_lot[1]",)),
    )
    assert decision.excluded == {"B1": ("LOT_EXPIRED", "LOT_NOT_RELEASED"), "L2": ("LOT_NOT_RELEASED",)}


def test_signatures_take_the_highest_count_the_union_of_roles_and_the_meaning_of_the_strongest_rule():
    policy = a_decision(signatures("b-two", 2, ["SUPERVISOR"], "Approved by two"),
                        signatures("a-two", 2, ["QA"], "Approved (a)"),
                        signatures("base", 1, ["SUPERVISOR", "QA"], "Approved")).signatures
    assert (policy.count, policy.roles, policy.meaning) == (2, ("QA", "SUPERVISOR"), "Approved (a)")


def test_a_signer_counts_towards_every_requirement_whose_roles_they_hold():
    policy = a_decision(signatures("two", 2, ["SUPERVISOR", "QA"], "m"),
                        signatures("qa", 1, ["QA"], "m")).signatures
    assert policy.is_met_by({"ann": {"QA"}, "bob": {"SUPERVISOR"}})
    assert [r.rule_id for r in policy.unmet({"ann": {"SUPERVISOR"}, "bob": {"SUPERVISOR"}})] == ["qa"]
    assert [r.rule_id for r in policy.unmet({"ann": {"QA", "SUPERVISOR"}})] == ["two"]


def test_the_same_facts_and_version_give_the_same_decision_and_hash():
    document = {"rules": [{"id": "big", "description": "d", "fact": "reversal", "when": {"$gt": {"value": 1000}},
                           "then": {"action": "require_signatures", "count": 2, "roles": ["QA"], "meaning": "m"}}],
                "tests": [{"name": "t", "facts": {}, "expect": []}]}
    ruleset = load_ruleset(document, ruleset_id="same", version=1, kind="REVERSAL_SIGNATURE")
    as_decimals = {"reversal": [{"value": Decimal("1500.00"), "quantity": Decimal("10")}]}
    as_plain = {"reversal": [{"quantity": 10, "value": 1500}]}
    first, second, plain = (evaluate(ruleset, f) for f in (as_decimals, as_decimals, as_plain))
    assert first == second
    assert first.input_hash == plain.input_hash  # 1500.00, 1500 and Decimal("1500") are one number
    assert first.to_record() == {"ruleset_id": "same", "version": 1, "engine": "durable",
                                 "input_hash": first.input_hash, "fired": [{
                                     "rule": "big", "action": "require_signatures", "facts": ["reversal[0]"],
                                     "params": {"count": 2, "roles": ["QA"], "meaning": "m"}}]}


def test_a_different_version_records_its_own_version():
    document = {"rules": [{"id": "r", "description": "d", "fact": "reversal", "when": {},
                           "then": {"action": "require_signatures", "count": 1, "roles": ["QA"], "meaning": "m"}}],
                "tests": [{"name": "t", "facts": {}, "expect": []}]}
    facts = {"reversal": [{"value": 1}]}
    v1, v2 = (evaluate(load_ruleset(document, ruleset_id="ver", version=v, kind="REVERSAL_SIGNATURE"), facts)
              for v in (1, 2))
    assert (v1.version, v2.version) == (1, 2)
    assert v1.input_hash == v2.input_hash
