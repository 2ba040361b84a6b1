"""Scan issue obeys the lot rules a backflush obeys: released, not expired, staged to this order, not excluded."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backflush.services import receiving
from backflush.services.scan_issue import ScanIssueRequest, scan_issue
from kernel.errors import DomainError
from models import LedgerEntry, StagedLot
from models.types import utcnow
from tests.builders import D, Plant, line, qa_user, signed
from tests.test_exclusions import qa_excludes_badco


@pytest.fixture
def plant(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("API", "kg", 3, variable_potency=True)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "API", "0.2", posting_method="SCAN_ISSUE")])
    return plant


def weigh(plant, order, lot, quantity="1.500"):
    return plant.run(scan_issue, ScanIssueRequest(work_order_id=order.id, line_no=1, lot_id=lot.id, quantity=quantity,
                                                  scanned_lot_number=lot.lot_number))


def refused_without_a_trace(plant, order, lot) -> str:
    """The refusal's code, after checking it wrote no issue and left the staged quantity alone."""
    with pytest.raises(DomainError) as refused:
        weigh(plant, order, lot)
    with plant.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "SCAN_ISSUE")) == 0
        assert set(s.scalars(select(StagedLot.remaining_quantity).where(StagedLot.work_order_id == order.id))) <= \
            {D("5.000")}
    return refused.value.code


def test_an_expired_lot_is_refused_even_when_staged(plant):
    lot = plant.receive("API", "API-OLD", "5.000", expires_on=utcnow().date() - timedelta(days=1))
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "5.000")
    assert refused_without_a_trace(plant, order, lot) == "LOT_EXPIRED"


def test_a_lot_expiring_today_is_still_issued(plant):
    lot = plant.receive("API", "API-TODAY", "5.000", expires_on=utcnow().date())
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "5.000")
    assert weigh(plant, order, lot).quantity == D("1.500")


def test_a_lot_put_on_hold_after_staging_is_refused(plant):
    lot = plant.receive("API", "API-1", "5.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "5.000")
    plant.run(receiving.set_lot_status, lot_id=lot.id, status="ON_HOLD", reason="OOS result", signature=None)
    assert refused_without_a_trace(plant, order, lot) == "LOT_NOT_RELEASED"
    plant.run(receiving.set_lot_status, lot_id=lot.id, status="RELEASED", reason="retest passed",
              signature=signed("Released"))
    assert weigh(plant, order, lot).quantity == D("1.500")


def test_a_lot_staged_only_to_another_work_order_is_refused(plant):
    lot = plant.receive("API", "API-1", "10.000")
    order, other = plant.work_order("WO-1", "FG"), plant.work_order("WO-2", "FG")
    plant.stage(other, lot, "5.000")
    assert refused_without_a_trace(plant, order, lot) == "LOT_NOT_STAGED"


def test_a_lot_qa_excluded_by_supplier_is_refused(plant):
    # given QA's ELIGIBILITY version excluding supplier BADCO, and BADCO's lot staged to WO-1
    qa_excludes_badco(plant)
    bad = plant.receive("API", "BAD-1", "5.000", supplier="BADCO")
    good = plant.receive("API", "GOOD-1", "5.000", supplier="ACME")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, good, "5.000")
    plant.stage(order, bad, "5.000")
    # when it is weighed, then it is refused naming QA's code; ACME's lot is issued
    with pytest.raises(DomainError) as refused:
        weigh(plant, order, bad)
    assert refused.value.code == "LOT_EXCLUDED" and "SUPPLIER_BLOCKED" in refused.value.message
    assert weigh(plant, order, good).quantity == D("1.500")
