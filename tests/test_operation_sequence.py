"""Operations cannot run ahead: cumulative good at operation N ≤ good at N−1 + the order's over-production allowance.

The allowance is planned × overproductionTolerancePercent / 100, in parent units; the rule is the shipped
BLOCKING default OPERATION_AHEAD, which QA may leave out of a version of their own (parallel routings).
"""
from __future__ import annotations

import yaml

import rules
from backflush.policies.policy import BuiltinPolicy
from backflush.services import rule_sets
from backflush.services.posting import retry_trigger, submit_trigger
from backflush.services.work_orders import OperationSpec
from tests.builders import Plant, line, post, qa_user, signed, trigger

ROUTING = [OperationSpec(10, "Granulate"), OperationSpec(20, "Compress"), OperationSpec(30, "Pack")]


def routed_order(sessions, tolerance: str = "0"):
    """WO-1 for 100 units through 10 → 20 → 30; each operation consumes 1 kg of C per unit, plenty staged."""
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "0.001", operation_seq=10), line(2, "C", "0.001", operation_seq=20),
                     line(3, "C", "0.001", operation_seq=30)])
    lot = plant.receive("C", "C-1", "10.000")
    order = plant.work_order("WO-1", "FG", "100", operations=ROUTING, overproduction_tolerance_percent=tolerance)
    plant.stage(order, lot, "10.000")
    return plant, order


def report(plant, order, seq: int, good: str, policy=None):
    return submit_trigger(plant.sessions, plant.principal, trigger(order, good, operation_seq=seq), policy).trigger


def codes(trigger) -> list[str]:
    return [r["code"] for r in trigger.block_reasons or []] if trigger.outcome == "BLOCKED" else []


def test_an_operation_reporting_more_good_than_its_predecessor_is_blocked(sessions):
    plant, order = routed_order(sessions)
    assert report(plant, order, 10, "50").outcome == "POSTED"
    ahead = report(plant, order, 20, "51")
    assert (ahead.outcome, codes(ahead)) == ("BLOCKED", ["OPERATION_AHEAD"])
    assert report(plant, order, 20, "50").outcome == "POSTED"
    assert codes(report(plant, order, 30, "51")) == ["OPERATION_AHEAD"]


def test_the_blocked_operation_posts_on_retry_once_its_predecessor_has_caught_up(sessions):
    plant, order = routed_order(sessions)
    report(plant, order, 10, "40")
    ahead = report(plant, order, 20, "45")
    assert codes(ahead) == ["OPERATION_AHEAD"]
    report(plant, order, 10, "5")
    assert plant.run(retry_trigger, trigger_id=ahead.id).trigger.outcome == "POSTED"


def test_the_over_production_tolerance_is_the_allowance_ahead_of_the_predecessor(sessions):
    # given 10 % tolerance on 100 planned: an allowance of 10 units
    plant, order = routed_order(sessions, tolerance="10")
    report(plant, order, 10, "50")
    # when operation 20 reports 60 (exactly 10 ahead), then 1 more
    assert report(plant, order, 20, "60").outcome == "POSTED"
    assert codes(report(plant, order, 20, "1")) == ["OPERATION_AHEAD"]


def test_the_first_operation_has_no_predecessor_to_wait_for(sessions):
    plant, order = routed_order(sessions)
    assert report(plant, order, 10, "100").outcome == "POSTED"


def test_the_built_in_defaults_block_an_operation_ahead_too(sessions):
    plant, order = routed_order(sessions)
    report(plant, order, 10, "10", BuiltinPolicy())
    assert codes(report(plant, order, 20, "11", BuiltinPolicy())) == ["OPERATION_AHEAD"]


def blocking_without_operation_ahead() -> dict:
    """QA's version for parallel routings: the shipped default without the OPERATION_AHEAD rule."""
    document = yaml.safe_load(rules.default_source("BLOCKING"))
    document["rules"] = [r for r in document["rules"] if r["then"]["code"] != "OPERATION_AHEAD"]
    document["tests"] = [t for t in document["tests"] if not any(e.get("code") == "OPERATION_AHEAD" or
                                                                 e.get("rule") == "operation-ahead" for e in t["expect"])]
    return document


def test_an_operation_may_run_ahead_when_qas_active_version_leaves_the_rule_out(sessions):
    # given QA approved a BLOCKING version without OPERATION_AHEAD
    plant, order = routed_order(sessions)
    draft = plant.run(rule_sets.create_draft, name="blocking-parallel", kind="BLOCKING",
                      document=blocking_without_operation_ahead(), site_code=None)
    plant.run(rule_sets.approve_rule_set, rule_set_id=draft.id, signature=signed(), effective_from=None)
    # when operation 20 reports before operation 10, then it posts
    assert report(plant, order, 20, "30").outcome == "POSTED"
    assert post(plant, trigger(order, "30", operation_seq=30)).trigger.outcome == "POSTED"
