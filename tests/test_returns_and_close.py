"""Returns to stock and closing a work order (SPEC §4.5): residuals, variances, deviations, a closed order."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backflush.services import receiving, reversals
from backflush.services.boms import AlternateSpec
from backflush.services.closing import ResidualSpec, close_work_order
from backflush.services.commands import command
from backflush.services.ledger import check_consistency
from backflush.services.posting import discard_trigger, retry_trigger
from backflush.services.returns import return_to_stock
from backflush.services.scan_issue import ScanIssueRequest, scan_issue
from kernel import audit
from kernel.errors import DomainError, ManyErrors
from models import Balance, ComponentVariance, Deviation, Item, LedgerEntry, Lot, StagedLot, WorkOrder
from tests.builders import Plant, line, post, qa_user, signed, trigger

D = Decimal


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions, "qa.lead"))


def refused(plant, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as error:
        plant.run(fn, *args, **kwargs)
    return error.value


def refusal(attempt) -> DomainError:
    with pytest.raises(DomainError) as error:
        attempt()
    return error.value


def balance(plant, lot, kind: str) -> Decimal | None:
    with plant.sessions() as s:
        return s.scalar(select(Balance.quantity).where(Balance.lot_id == lot.id,
                                                       Balance.location_id == plant.locations[kind]))


def remaining(plant, order) -> list[Decimal]:
    with plant.sessions() as s:
        return list(s.scalars(select(StagedLot.remaining_quantity).where(StagedLot.work_order_id == order.id)
                              .order_by(StagedLot.id)))


def assert_books_balance(plant):
    with plant.sessions() as s:
        assert check_consistency(s) == []
        assert audit.verify(s).ok


def simple_order(plant, staged=("10.000",)):
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    lot = plant.receive("C", "C-1", "20.000")
    order = plant.work_order("WO-1", "FG")
    for quantity in staged:
        plant.stage(order, lot, quantity)
    return order, lot


def give_back(plant, order, lot, quantity, **extra):
    terms = {"to_location_id": plant.locations["STOCK"], "reason_code": "LEFTOVER", "scanned_lot_number": lot.lot_number}
    return plant.run(return_to_stock, work_order_id=order.id, lot_id=lot.id, quantity=quantity, **{**terms, **extra})


def test_a_residual_returns_to_a_stock_bin_with_a_lot_scan_and_a_reason_oldest_binding_first(plant):
    order, lot = simple_order(plant, staged=("3.000", "4.000"))
    assert refusal(lambda: give_back(plant, order, lot, "5.000", scanned_lot_number="C-2")).code == "LOT_SCAN_MISMATCH"
    assert refusal(lambda: give_back(plant, order, lot, "5.000", to_location_id=plant.locations["WIP"])).code == \
        "WRONG_LOCATION_KIND"
    assert refusal(lambda: give_back(plant, order, lot, "7.001")).code == "INSUFFICIENT_STAGED_STOCK"
    assert refusal(lambda: give_back(plant, order, lot, "5.000", reason_code=" ")).code == "REQUIRED"
    give_back(plant, order, lot, "5.000", reason_code="SALVAGE")
    assert remaining(plant, order) == [D("0.000"), D("2.000")]
    assert (balance(plant, lot, "STOCK"), balance(plant, lot, "WIP")) == (D("18.000"), D("2.000"))
    with plant.sessions() as s:
        rows = s.execute(select(LedgerEntry.quantity, LedgerEntry.reason_code).where(LedgerEntry.kind == "RETURN")
                         .order_by(LedgerEntry.id)).all()
    assert rows == [(D("3.000"), "SALVAGE"), (D("2.000"), "SALVAGE")]
    assert_books_balance(plant)


def test_an_exposed_return_goes_to_quarantine_and_the_lot_waits_for_a_signed_qa_release(plant):
    order, lot = simple_order(plant)
    give_back(plant, order, lot, "4.000", exposed=True, reason_code="EXPOSED")
    assert (balance(plant, lot, "QUARANTINE"), balance(plant, lot, "STOCK")) == (D("4.000"), D("10.000"))
    blocked = post(plant, trigger(order, "2")).trigger
    assert [r["code"] for r in blocked.block_reasons] == ["LOT_NOT_RELEASED"]
    release = {"lot_id": lot.id, "status": "RELEASED", "reason": "QA checked the exposed lot"}
    assert refused(plant, receiving.set_lot_status, signature=None, **release).code == "SIGNATURE_REQUIRED"
    plant.run(receiving.set_lot_status, signature=signed("Released"), **release)
    assert plant.run(retry_trigger, trigger_id=blocked.id).trigger.outcome == "POSTED"
    assert remaining(plant, order) == [D("4.000")]
    assert_books_balance(plant)


def test_close_waits_for_blocked_triggers_to_be_retried_or_discarded(plant):
    order, lot = simple_order(plant)
    blocked = post(plant, trigger(order, "50")).trigger
    assert refused(plant, close_work_order, work_order_id=order.id).code == "PENDING_BLOCKED_TRIGGERS"
    plant.run(discard_trigger, trigger_id=blocked.id, reason_code="DUPLICATE", signature=signed())
    scrap = ResidualSpec(lot_id=lot.id, disposition="SCRAP", reason_code="SPILLED")
    assert plant.run(close_work_order, work_order_id=order.id, residuals=[scrap]).status == "CLOSED"
    assert_books_balance(plant)


def three_lot_order(plant):
    """250 kg staged over three lots; 210 good of 1 kg/unit draw L1 120 and L2 90 (FEFO), leaving 10 + 30."""
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    order = plant.work_order("WO-1", "FG", "300")
    lots = []
    for number, quantity, days in (("L1", "120.000", 10), ("L2", "100.000", 20), ("L3", "30.000", 30)):
        lots.append(plant.receive("C", number, quantity, expires_on=date.today() + timedelta(days=days)))
        plant.stage(order, lots[-1], quantity)
    assert post(plant, trigger(order, "210")).trigger.outcome == "POSTED"
    return order, lots


def test_close_with_40_kg_still_staged_is_refused_until_each_lot_is_returned_or_scrapped(plant):
    order, (l1, l2, l3) = three_lot_order(plant)
    with pytest.raises(ManyErrors) as unresolved:
        plant.run(close_work_order, work_order_id=order.id)
    assert [(e.code, e.field, e.message.split(";")[0]) for e in unresolved.value.errors] == [
        ("RESIDUALS_UNRESOLVED", ["input", "residuals"], "lot L2: 10.000 kg still staged"),
        ("RESIDUALS_UNRESOLVED", ["input", "residuals"], "lot L3: 30.000 kg still staged")]
    back = ResidualSpec(lot_id=l2.id, disposition="RETURN_TO_STOCK", reason_code="LEFTOVER",
                        to_location_id=plant.locations["STOCK"], scanned_lot_number="L2")
    mis_scanned = refused(plant, close_work_order, work_order_id=order.id,
                          residuals=[ResidualSpec(**{**back.__dict__, "scanned_lot_number": "L3"})])
    assert (mis_scanned.code, mis_scanned.field) == ("LOT_SCAN_MISMATCH", ["input", "residuals", "0", "scannedLotNumber"])
    no_reason = ResidualSpec(lot_id=l3.id, disposition="SCRAP", reason_code="")
    assert refused(plant, close_work_order, work_order_id=order.id, residuals=[back, no_reason]).field == \
        ["input", "residuals", "1", "reasonCode"]
    with pytest.raises(ManyErrors) as half:
        plant.run(close_work_order, work_order_id=order.id, residuals=[back])
    assert [e.message.split(";")[0] for e in half.value.errors] == ["lot L3: 30.000 kg still staged"]
    assert remaining(plant, order) == [D("0.000"), D("10.000"), D("30.000")], "a refused close books nothing"
    scrap = ResidualSpec(lot_id=l3.id, disposition="SCRAP", reason_code="CONTAMINATED")
    closed = plant.run(close_work_order, work_order_id=order.id, residuals=[back, scrap])
    assert (closed.status, closed.closed_at is not None) == ("CLOSED", True)
    assert (balance(plant, l2, "STOCK"), balance(plant, l3, "WIP")) == (D("10.000"), D("0.000"))
    with plant.sessions() as s:
        scrapped = s.execute(select(LedgerEntry.lot_id, LedgerEntry.quantity, LedgerEntry.reason_code, LedgerEntry.to_location_id)
                             .where(LedgerEntry.kind == "SCRAP")).all()
        (row,) = s.scalars(select(ComponentVariance)).all()
    assert scrapped == [(l3.id, D("30.000"), "CONTAMINATED", None)]
    assert (row.standard_quantity, row.actual_quantity, row.usage_variance, row.variance_percent) == (
        D("210.000"), D("210.000"), D("0.000"), D("0.00"))
    assert_books_balance(plant)


def test_a_closed_order_accepts_nothing_more(plant):
    order, lot = simple_order(plant)
    posted = post(plant, trigger(order, "4")).trigger
    plant.run(close_work_order, work_order_id=order.id, residuals=[
        ResidualSpec(lot_id=lot.id, disposition="RETURN_TO_STOCK", reason_code="LEFTOVER",
                     to_location_id=plant.locations["STOCK"], scanned_lot_number="C-1")])
    attempts = {
        "stage": lambda: plant.stage(order, lot, "1.000"),
        "post trigger": lambda: post(plant, trigger(order, "1")),
        "scan issue": lambda: plant.run(scan_issue, ScanIssueRequest(order.id, 1, lot.id, "1.000", "C-1")),
        "return": lambda: give_back(plant, order, lot, "1.000"),
        "reversal": lambda: plant.run(reversals.request_reversal, trigger_id=posted.id, reason_code="LATE", comment=None),
        "close": lambda: plant.run(close_work_order, work_order_id=order.id),
    }
    codes = {name: refusal(attempt).code for name, attempt in attempts.items()}
    assert set(codes.values()) == {"WORK_ORDER_NOT_OPEN"}, codes
    assert_books_balance(plant)


def alternate_order(plant, primary_staged: str):
    """SPEC §4.5's line: 0.5 kg/unit, scrap 2 %, setup 0.2 kg; ALT stands in at 1.1 kg per kg."""
    plant.item("RM", "kg", 3, standard_cost="2.00")
    plant.item("ALT", "kg", 3, standard_cost="3.00")
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "RM", "0.5", scrap_percent="2", setup_scrap="0.2", scrap_source="line trial 2024",
                          alternates=[AlternateSpec("ALT", "1.1", 1)])])
    rm, alt = plant.receive("RM", "RM-1", "20.000"), plant.receive("ALT", "ALT-1", "5.000")
    order = plant.work_order("WO-1", "FG", "100")
    plant.stage(order, rm, primary_staged)
    plant.stage(order, alt, "1.000")
    return order, rm, alt


def variance_rows(plant, order) -> dict[str, tuple]:
    with plant.sessions() as s:
        rows = s.scalars(select(ComponentVariance).where(ComponentVariance.work_order_id == order.id))
        return {s.get(Item, r.component_id).code: (
            format(r.standard_quantity, "f"), format(r.actual_quantity, "f"), format(r.usage_variance, "f"),
            format(r.yield_variance, "f"), format(r.mix_variance, "f"), format(r.residual_variance, "f"),
            None if r.variance_percent is None else format(r.variance_percent, "f"), format(r.usage_variance_cost, "f"))
            for r in rows}


def issued(plant, order) -> list[tuple[int, str]]:
    with plant.sessions() as s:
        return [(item_id, format(q, "f")) for item_id, q in s.execute(
            select(LedgerEntry.item_id, LedgerEntry.quantity).where(LedgerEntry.work_order_id == order.id,
                                                                    LedgerEntry.kind == "BACKFLUSH_ISSUE")
            .order_by(LedgerEntry.id))]


def test_the_spec_reference_close_books_primary_and_alternate_variances(plant):
    order, rm, alt = alternate_order(plant, "10.000")
    post(plant, trigger(order, "15", scrap="1"))
    post(plant, trigger(order, "4"))
    assert issued(plant, order) == [(rm.item_id, "8.360"), (rm.item_id, "1.640"), (alt.item_id, "0.440")]
    plant.run(close_work_order, work_order_id=order.id, residuals=[
        ResidualSpec(lot_id=alt.id, disposition="RETURN_TO_STOCK", reason_code="LEFTOVER",
                     to_location_id=plant.locations["STOCK"], scanned_lot_number="ALT-1")])
    assert variance_rows(plant, order) == {
        #       standard  actual    usage    yield    mix       residual  %       money
        "RM": ("9.690", "10.000", "0.310", "0.710", "-0.400", "0.000", "3.20", "0.62000"),
        "ALT": ("0.000", "0.440", "0.440", "0.000", "0.440", "0.000", None, "1.32000")}
    with plant.sessions() as s:
        assert s.scalars(select(Deviation)).all() == [], "3.20 % is within the ±5 % limit"
    assert_books_balance(plant)


def test_a_short_run_with_scrap_setup_and_an_alternate_matches_the_hand_computation_and_opens_a_deviation(plant):
    order, rm, alt = alternate_order(plant, "1.500")
    post(plant, trigger(order, "2", scrap="1"))  # needs 3 × 0.51 + 0.2 = 1.730: RM 1.500, ALT 0.230 × 1.1
    late = post(plant, trigger(order, "1")).trigger  # needs 0.510 more, all ALT (0.561) — then reversed
    qa = qa_user(plant.sessions, "qa.two")
    pending = plant.run(reversals.request_reversal, trigger_id=late.id, reason_code="WRONG_COUNT", comment=None)
    with command(plant.sessions, qa) as s:
        reversals.sign_reversal(s, qa, reversal_id=pending.id, signature=signed())
        s.commit()
    plant.run(close_work_order, work_order_id=order.id, residuals=[
        ResidualSpec(lot_id=alt.id, disposition="SCRAP", reason_code="SAMPLE_TAKEN")])
    # Hand computation, 2 good and 1 scrap (the reversed trigger counts for nothing):
    #   per unit 0.5 × 1.02 = 0.51; standard 2 × 0.51 = 1.020; actual RM 1.500; usage 0.480
    #   yield 1 × 0.51 + 0.2 = 0.710; mix −0.253 ÷ 1.1 = −0.230; residual 0.480 − 0.710 + 0.230 = 0.000
    #   variance 0.480 ÷ 1.020 = 47.06 %; money RM 0.480 × 2.00, ALT 0.253 × 3.00
    assert variance_rows(plant, order) == {
        "RM": ("1.020", "1.500", "0.480", "0.710", "-0.230", "0.000", "47.06", "0.96000"),
        "ALT": ("0.000", "0.253", "0.253", "0.000", "0.253", "0.000", None, "0.75900")}
    with plant.sessions() as s:
        (deviation,) = s.scalars(select(Deviation)).all()
        assert s.get(WorkOrder, order.id).status == "CLOSED"
    assert (deviation.category, deviation.reason_code, deviation.status) == ("USAGE_VARIANCE", "USAGE_VARIANCE_RM", "OPEN")
    assert_books_balance(plant)


def test_a_residual_returned_to_a_quarantine_bin_at_close_quarantines_the_lot(plant):
    order, lot = simple_order(plant)
    post(plant, trigger(order, "4"))
    plant.run(close_work_order, work_order_id=order.id, residuals=[
        ResidualSpec(lot_id=lot.id, disposition="RETURN_TO_STOCK", reason_code="EXPOSED",
                     to_location_id=plant.locations["QUARANTINE"], scanned_lot_number="C-1")])
    with plant.sessions() as s:
        assert s.get(Lot, lot.id).status == "QUARANTINE"
    assert balance(plant, lot, "QUARANTINE") == D("6.000")
    assert_books_balance(plant)


def test_a_line_in_grams_of_a_kilogram_item_closes_with_its_variances_in_kilograms(plant):
    # given 0.5 g per unit (scrap 2 %) of a 4-decimal kilogram item, and exactly what 1000 good + 20 scrap consume
    plant.item("C", "kg", 4, standard_cost="2.00")
    plant.item("FG", "ea", 0)
    plant.conversion("C", "g", "kg", "0.001")
    plant.bom("FG", [line(2, "C", "0.5", uom="g", scrap_percent="2", scrap_source="line trial 2024")])
    lot = plant.receive("C", "C-1", "1.0000")
    order = plant.work_order("WO-1", "FG", "1000")
    plant.stage(order, lot, "0.5202")
    post(plant, trigger(order, "1000", scrap="20"))  # 1020 × 0.51 g = 520.2 g
    # when the order closes
    plant.run(close_work_order, work_order_id=order.id)
    # then, by hand: standard 1000 × 0.51 g = 0.5100 kg; usage 0.0102 kg, all of it the 20 scrapped units
    # (yield 20 × 0.51 g); 0.0102 ÷ 0.5100 = 2.00 %; money 0.0102 × 2.00
    assert variance_rows(plant, order) == {
        "C": ("0.5100", "0.5202", "0.0102", "0.0102", "0.0000", "0.0000", "2.00", "0.020400")}
    assert_books_balance(plant)
