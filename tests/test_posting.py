"""The posting service end to end on a real database: exact lot postings, blocks, idempotency."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backflush.services.ledger import check_consistency
from backflush.services.work_orders import OperationSpec
from kernel import audit
from kernel.errors import DomainError
from models import Balance, Deviation, GenealogyEdge, LedgerEntry, Trigger
from tests.builders import Plant, line, post, qa_user, trigger


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions))


def issues(plant, work_order):
    with plant.sessions() as s:
        rows = s.execute(select(LedgerEntry.lot_id, LedgerEntry.quantity).where(
            LedgerEntry.work_order_id == work_order.id, LedgerEntry.kind == "BACKFLUSH_ISSUE").order_by(LedgerEntry.id))
        return [(lot, qty) for lot, qty in rows]


def assert_books_balance(plant):
    with plant.sessions() as s:
        assert check_consistency(s) == []
        assert audit.verify(s).ok


def test_mass_with_scrap_posts_0_5202_kg_from_the_staged_lot(plant):
    plant.item("C", "kg", 4)
    plant.item("FG", "ea", 0)
    plant.conversion(None, "g", "kg", "0.001")
    plant.bom("FG", [line(1, "C", "0.5", "g", scrap_percent="2", scrap_source="trial")])
    lot = plant.receive("C", "C-1", "1.0000")
    order = plant.work_order("WO-1", "FG", "2000")
    plant.stage(order, lot, "1.0000")
    result = post(plant, trigger(order, "1000", scrap="20"))
    assert result.trigger.outcome == "POSTED"
    assert issues(plant, order) == [(lot.id, Decimal("0.5202"))]
    assert_books_balance(plant)


def test_fefo_skips_the_expired_lot_and_draws_the_earliest_expiry_first(plant):
    from datetime import date, timedelta
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    expired = plant.receive("C", "OLD", "5.000", expires_on=date.today() - timedelta(days=1))
    late = plant.receive("C", "LATE", "5.000", expires_on=date.today() + timedelta(days=90))
    soon = plant.receive("C", "SOON", "5.000", expires_on=date.today() + timedelta(days=10))
    order = plant.work_order("WO-1", "FG")
    for lot in (expired, late, soon):
        plant.stage(order, lot, "5.000")
    post(plant, trigger(order, "7"))
    assert issues(plant, order) == [(soon.id, Decimal("5.000")), (late.id, Decimal("2.000"))]
    assert_books_balance(plant)


def test_two_short_lines_block_once_with_both_reasons_and_change_nothing(plant):
    plant.item("A", "kg", 3)
    plant.item("B", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1"), line(2, "B", "2")])
    a = plant.receive("A", "A-1", "1.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, a, "1.000")
    with plant.sessions() as s:
        before = {(b.lot_id, b.location_id): b.quantity for b in s.scalars(select(Balance))}
        ledger_rows = s.scalar(select(func.count()).select_from(LedgerEntry))
    result = post(plant, trigger(order, "5"))
    assert result.trigger.outcome == "BLOCKED"
    reasons = {(r["code"], r["component_code"], r["required"], r["eligible"]) for r in result.trigger.block_reasons}
    assert reasons == {("INSUFFICIENT_STAGED_STOCK", "A", "5.000", "1.000"), ("INSUFFICIENT_STAGED_STOCK", "B", "10.000", "0.000")}
    with plant.sessions() as s:
        assert {(b.lot_id, b.location_id): b.quantity for b in s.scalars(select(Balance))} == before
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == ledger_rows
        deviations = list(s.scalars(select(Deviation)))
        assert [(d.reason_code, d.status) for d in deviations] == [("INSUFFICIENT_STAGED_STOCK", "OPEN")]
    again = post(plant, trigger(order, "5"))
    with plant.sessions() as s:
        assert s.scalar(select(Deviation.occurrences)) == 2, "a repeat attaches to the open deviation"
    assert again.trigger.deviation_id == result.trigger.deviation_id
    assert_books_balance(plant)


def test_a_blocked_trigger_posts_on_retry_after_the_shortage_is_staged(plant):
    from backflush.services.posting import retry_trigger
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    lot = plant.receive("A", "A-1", "10.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "2.000")
    blocked = post(plant, trigger(order, "5")).trigger
    plant.stage(order, lot, "3.000")
    retried = plant.run(retry_trigger, trigger_id=blocked.id).trigger
    assert retried.outcome == "POSTED" and retried.id == blocked.id
    assert sum(q for _, q in issues(plant, order)) == Decimal("5.000")
    assert_books_balance(plant)


def test_the_last_operation_receives_good_units_into_the_output_lot_and_links_genealogy(plant):
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "0.5", operation_seq=10)])
    lot = plant.receive("A", "A-1", "10.000")
    order = plant.work_order("WO-1", "FG", operations=[OperationSpec(10, "Mix"), OperationSpec(20, "Pack")])
    plant.stage(order, lot, "10.000")
    post(plant, trigger(order, "10", operation_seq=10))
    post(plant, trigger(order, "9", operation_seq=20))
    with plant.sessions() as s:
        receipts = s.scalars(select(LedgerEntry.quantity).where(LedgerEntry.kind == "PRODUCTION_RECEIPT")).all()
        edges = s.execute(select(GenealogyEdge.from_lot_id, GenealogyEdge.to_lot_id, GenealogyEdge.quantity)).all()
    assert receipts == [Decimal("9")]
    assert edges == [(lot.id, order.output_lot_id, Decimal("5.000"))]
    assert_books_balance(plant)


def test_the_same_key_and_payload_replays_and_another_payload_is_refused(plant):
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    lot = plant.receive("A", "A-1", "10.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "10.000")
    first = post(plant, trigger(order, "2", key="scan-77"))
    replay = post(plant, trigger(order, "2.0", key="scan-77"))
    assert (replay.replayed, replay.trigger.id) == (True, first.trigger.id)
    with pytest.raises(DomainError) as reused:
        post(plant, trigger(order, "3", key="scan-77"))
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert issues(plant, order) == [(lot.id, Decimal("2.000"))]


@pytest.mark.parametrize("good, extra, code", [
    ("-1", {}, "QUANTITY_NEGATIVE"),
    ("abc", {}, "INVALID_DECIMAL"),
    ("101", {}, "OVER_PRODUCTION"),
    ("1", {"operation_seq": 99}, "WRONG_OPERATION"),
    ("1.5", {}, "QUANTITY_PRECISION"),
], ids=["negative", "malformed", "over production", "wrong operation", "fractional eaches"])
def test_invalid_triggers_are_refused_and_store_nothing(plant, good, extra, code):
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    lot = plant.receive("A", "A-1", "200.000")
    order = plant.work_order("WO-1", "FG", "100")
    plant.stage(order, lot, "200.000")
    with pytest.raises(DomainError) as refused:
        post(plant, trigger(order, good, **extra))
    assert refused.value.code == code
    with plant.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Trigger)) == 0


def test_every_trigger_stores_the_rule_decisions_that_made_it_naming_the_version(plant):
    from models import RuleDecision, RuleSet
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    lot = plant.receive("A", "A-1", "1.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "1.000")
    posted = post(plant, trigger(order, "1")).trigger
    blocked = post(plant, trigger(order, "1")).trigger
    with plant.sessions() as s:
        def kinds(t):
            rows = s.execute(select(RuleSet.kind, RuleDecision.version, RuleDecision.input_hash)
                             .join(RuleSet, RuleSet.id == RuleDecision.rule_set_id)
                             .where(RuleDecision.trigger_id == t.id).order_by(RuleDecision.id)).all()
            assert all(version == 1 and len(digest) == 64 for _, version, digest in rows)
            return [kind for kind, *_ in rows]
        assert kinds(posted) == ["ELIGIBILITY", "BLOCKING"]
        assert kinds(blocked) == ["BLOCKING", "DEVIATION"]  # nothing left staged: no candidates to judge
