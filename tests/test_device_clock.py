"""The device clock is judged when the device reported, not when a blocked trigger is retried."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from backflush.policies.policy import BuiltinPolicy
from backflush.policies.rules_policy import RulesFlushPolicy
from backflush.services import posting
from models.types import utcnow
from tests.builders import Plant, line, qa_user, trigger

POLICIES = {"QA's BLOCKING rule set": RulesFlushPolicy, "the planner's built-in limit": BuiltinPolicy}


def one_line_order(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    return plant, plant.receive("C", "C-1", "10.000"), plant.work_order("WO-1", "FG")


@pytest.mark.parametrize("judge", POLICIES)
def test_a_retry_30_s_later_posts_a_trigger_whose_device_was_100_s_behind_when_it_reported(sessions, monkeypatch, judge):
    # given a device 100 s behind the server, whose trigger blocks on stock
    plant, lot, order = one_line_order(sessions)
    sent = utcnow()
    request = trigger(order, "2", device_id="HMI-1", device_timestamp=sent - timedelta(seconds=100))
    blocked = posting.submit_trigger(sessions, plant.principal, request, POLICIES[judge]()).trigger
    answered = utcnow()
    assert [r["code"] for r in blocked.block_reasons] == ["INSUFFICIENT_STAGED_STOCK"]
    # 100 s behind, plus however long the server took to receive it (seconds on a loaded machine)
    late = Decimal(str((answered - sent).total_seconds()))
    assert -100 - late <= blocked.clock_skew_seconds <= -100
    # when the lot is staged and the trigger retried 30 s after it was received (the clock moved, nobody slept)
    plant.stage(order, lot, "5.000")
    monkeypatch.setattr(posting, "utcnow", lambda: blocked.received_at + timedelta(seconds=30))
    retried = plant.run(posting.retry_trigger, trigger_id=blocked.id, policy=POLICIES[judge]()).trigger
    # then it posts, and the skew on record is still the one measured when the device reported
    assert retried.outcome == "POSTED"
    assert retried.clock_skew_seconds == blocked.clock_skew_seconds


def test_a_device_already_off_by_more_than_120_s_when_it_reported_stays_blocked_on_retry(sessions, monkeypatch):
    plant, lot, order = one_line_order(sessions)
    plant.stage(order, lot, "5.000")
    request = trigger(order, "2", device_id="HMI-1", device_timestamp=utcnow() - timedelta(seconds=125))
    blocked = posting.submit_trigger(sessions, plant.principal, request).trigger
    assert [r["code"] for r in blocked.block_reasons] == ["CLOCK_SKEW"]
    monkeypatch.setattr(posting, "utcnow", lambda: blocked.received_at + timedelta(seconds=30))
    retried = plant.run(posting.retry_trigger, trigger_id=blocked.id).trigger
    assert [r["code"] for r in retried.block_reasons] == ["CLOCK_SKEW"] and retried.outcome == "BLOCKED"
