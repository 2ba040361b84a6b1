"""The insight scenario (issue 14), written as the floor would live it.

Plant P1 makes FG (ea) from C (kg, 1 kg per unit, no scrap factor). Twenty-one orders close one after
another; the kilograms each issues per good unit are, by construction:

  orders 1-20   odd: good 10, scrap 0 → 10.000 kg (1.00 kg/unit); even: good 10, scrap 1 → 11.000 kg (1.10)
  order 21      good 4, scrap 1 → 5.000 kg (1.25 kg/unit)

so orders 1-20 have mean 1.05 and σ 0.05 (population), and order 21 lies 4σ above them.
Lots: A1 (ACME) feeds orders 1-10, A2 (ACME) orders 11-20 and 2.000 kg of order 21, B1 (BETA, expires
first) 3.000 kg of order 21. Order 21's trigger is first BLOCKED (only B1 staged), then corrected by
staging A2 and retrying. Order 2's first trigger is reversed (signed) and posted again.
QA's DEVIATION version 2 (the shipped rules plus one on `control_signal`) is in force throughout.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import yaml

import rules
from backflush.services import reversals, rule_sets
from backflush.services.closing import close_work_order
from backflush.services.posting import retry_trigger
from tests.builders import Plant, line, post, signed, trigger

SOON, LATER = date.today() + timedelta(days=30), date.today() + timedelta(days=300)


@dataclass
class Scenario:
    plant: Plant
    orders: list = field(default_factory=list)
    lots: dict = field(default_factory=dict)
    blocked_trigger_id: int | None = None
    reversal_id: int | None = None


def make_order(plant: Plant, number: str, *, draws: list, good: str, scrap: str | None):
    """Stage exactly what the trigger consumes, post it and close the order."""
    order = plant.work_order(number, "FG")
    for lot, quantity in draws:
        plant.stage(order, lot, quantity)
    outcome = post(plant, trigger(order, good, scrap=scrap))
    assert outcome.trigger.outcome == "POSTED", outcome.trigger.block_reasons
    return order, outcome.trigger


def close(plant: Plant, order) -> None:
    plant.run(close_work_order, work_order_id=order.id)


def build_insight_scenario(plant: Plant) -> Scenario:
    scenario = Scenario(plant)
    qa_opens_deviations_on_control_signals(plant)
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    a1 = plant.receive("C", "A1", "200.000", supplier="ACME", expires_on=LATER)
    a2 = plant.receive("C", "A2", "200.000", supplier="ACME", expires_on=LATER)
    b1 = plant.receive("C", "B1", "3.000", supplier="BETA", expires_on=SOON)
    scenario.lots = {"A1": a1, "A2": a2, "B1": b1}
    for n in range(1, 21):
        lot = a1 if n <= 10 else a2
        scrap = "1" if n % 2 == 0 else None
        kilograms = "11.000" if scrap else "10.000"
        order, posted = make_order(plant, f"WO-{n:02d}", draws=[(lot, kilograms)], good="10", scrap=scrap)
        if n == 2:
            scenario.reversal_id = _reverse(plant, posted)
            again = post(plant, trigger(order, "10", scrap="1"))
            assert again.trigger.outcome == "POSTED"
        close(plant, order)
        scenario.orders.append(order)
    scenario.orders.append(_blocked_then_corrected(plant, scenario, a2, b1))
    return scenario


CONTROL_SIGNAL_RULE = {
    "id": "control-signal", "description": "Usage per unit outside mean ± 3σ opens a deviation",
    "fact": "control_signal", "when": {},
    "then": {"action": "open_deviation", "category": "CONTROL_SIGNAL", "severity": "HIGH"}}
CONTROL_SIGNAL_TEST = {
    "name": "a control signal opens a deviation",
    "facts": {"control_signal": [{"work_order_number": "WO-1", "component_code": "C", "usage_per_unit": 1.25,
                                  "upper_limit": 1.2, "sample_size": 20}]},
    "expect": [{"rule": "control-signal", "category": "CONTROL_SIGNAL"}]}


def qa_opens_deviations_on_control_signals(plant: Plant) -> None:
    document = yaml.safe_load(rules.default_source("DEVIATION"))
    document["rules"].append(CONTROL_SIGNAL_RULE)
    document["tests"].append(CONTROL_SIGNAL_TEST)
    draft = plant.run(rule_sets.create_draft, name="deviation-control", kind="DEVIATION", document=document,
                      site_code=None)
    plant.run(rule_sets.approve_rule_set, rule_set_id=draft.id, signature=signed(), effective_from=None)


def _reverse(plant: Plant, posted) -> int:
    pending = plant.run(reversals.request_reversal, trigger_id=posted.id, reason_code="WRONG_QUANTITY",
                        comment="declared before the count was checked")
    done = plant.run(reversals.sign_reversal, reversal_id=pending.id, signature=signed("Reversal approved"))
    assert done.status == "EXECUTED"
    return done.id


def _blocked_then_corrected(plant: Plant, scenario: Scenario, a2, b1):
    order = plant.work_order("WO-21", "FG")
    plant.stage(order, b1, "3.000")
    blocked = post(plant, trigger(order, "4", scrap="1")).trigger
    assert blocked.outcome == "BLOCKED"
    scenario.blocked_trigger_id = blocked.id
    plant.stage(order, a2, "2.000")
    retried = plant.run(retry_trigger, trigger_id=blocked.id)
    assert retried.trigger.outcome == "POSTED"
    close(plant, order)
    return order
