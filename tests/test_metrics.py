"""SPEC §9 figures computed from what actually happened on the floor."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from backflush.reads.metrics import backflush_metrics
from backflush.services import booking, posting
from backflush.services.posting import retry_trigger
from tests.builders import Plant, line, post, qa_user, trigger


def test_one_block_corrected_among_four_triggers_is_a_25_percent_exception_rate(sessions, monkeypatch):
    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    monkeypatch.setattr(posting, "utcnow", lambda: clock[0])
    monkeypatch.setattr(booking, "utcnow", lambda: clock[0])
    plant = Plant(sessions, qa_user(sessions))
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    lot = plant.receive("A", "A-1", "10.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "3.000")
    for _ in range(3):
        post(plant, trigger(order, "1"))
    blocked = post(plant, trigger(order, "1")).trigger
    plant.stage(order, lot, "1.000")
    clock[0] += timedelta(seconds=90, microseconds=505_000)  # corrected 90.505 s after it blocked
    plant.run(retry_trigger, trigger_id=blocked.id)
    with sessions() as s:
        metrics = backflush_metrics(s, plant.principal, since=None, until=None)
    assert (metrics.triggers, metrics.blocked, metrics.reversed) == (4, 1, 0)
    assert metrics.exception_rate == Decimal("25.00")
    assert metrics.mean_time_to_correction_seconds == Decimal("90.51")
    assert metrics.genealogy_completeness == Decimal("100.00")
    assert metrics.return_to_stock_compliance is None  # no order closed yet
