"""A trigger is parsed once where it enters the domain; every later step reads that one value."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from backflush.services import posting, trigger_eval
from kernel.errors import DomainError
from models import Trigger
from models.types import utcnow
from tests.builders import Plant, line, qa_user, trigger


def one_line_order(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    return plant, plant.receive("C", "C-1", "10.000"), plant.work_order("WO-1", "FG")


def counting_parses(monkeypatch) -> list:
    calls = []
    real = trigger_eval.parse_trigger

    def parse(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(posting, "parse_trigger", parse)
    return calls


def test_a_retry_evaluates_the_stored_trigger_without_parsing_a_request_again(sessions, monkeypatch):
    plant, lot, order = one_line_order(sessions)
    blocked = posting.submit_trigger(sessions, plant.principal, trigger(order, "2", device_id="HMI-1")).trigger
    assert blocked.outcome == "BLOCKED"
    plant.stage(order, lot, "5.000")
    parses = counting_parses(monkeypatch)

    retried = plant.run(posting.retry_trigger, trigger_id=blocked.id).trigger

    assert retried.outcome == "POSTED" and parses == []


def test_a_lost_race_on_the_idempotency_key_replays_the_winner_from_the_one_parse(sessions, monkeypatch):
    # given a trigger already posted under key k-race
    plant, lot, order = one_line_order(sessions)
    plant.stage(order, lot, "5.000")
    winner = posting.submit_trigger(sessions, plant.principal, trigger(order, "2", key="k-race")).trigger
    # when the same request arrives and does not see the winner until its insert collides (the race)
    real_existing, looks = posting._existing, []

    def existing_after_the_first_look(*args):
        looks.append(args)
        return None if len(looks) == 1 else real_existing(*args)

    monkeypatch.setattr(posting, "_existing", existing_after_the_first_look)
    parses = counting_parses(monkeypatch)

    result = posting.submit_trigger(sessions, plant.principal, trigger(order, "2", key="k-race"))

    # then the winner is replayed, and the request was parsed once
    assert result.replayed and result.trigger.id == winner.id
    assert len(parses) == 1


def test_a_replay_with_the_same_instant_in_another_zone_is_the_same_trigger(sessions):
    plant, lot, order = one_line_order(sessions)
    plant.stage(order, lot, "5.000")
    at = utcnow().replace(microsecond=0)
    first = posting.submit_trigger(sessions, plant.principal, trigger(order, "2", key="k-zone", device_timestamp=at))
    again = posting.submit_trigger(sessions, plant.principal, trigger(
        order, "2", key="k-zone", device_timestamp=at.astimezone(timezone(timedelta(hours=1)))))

    assert not first.replayed and again.replayed and again.trigger.id == first.trigger.id


def test_a_device_time_without_a_zone_is_refused_with_a_code_and_nothing_is_stored(sessions):
    plant, lot, order = one_line_order(sessions)

    with pytest.raises(DomainError) as refused:
        posting.submit_trigger(sessions, plant.principal, trigger(order, "2", device_timestamp=datetime(2026, 11, 30, 8)))

    assert (refused.value.code, refused.value.field) == ("TIMEZONE_REQUIRED", ["input", "deviceTimestamp"])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Trigger)) == 0
