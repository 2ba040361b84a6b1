"""Receiving, staging and their refusals (foundation acceptance)."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backflush.services.ledger import check_consistency
from kernel import audit
from kernel.errors import DomainError
from models import Balance, LedgerEntry, StagedLot
from tests.builders import Plant, line, qa_user


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions))


@pytest.fixture
def staged_order(plant):
    plant.item("API", "kg", 3)
    plant.item("TAB", "ea", 0)
    plant.bom("TAB", [line(1, "API", "0.5")])
    lot = plant.receive("API", "A-1", "10.000")
    work_order = plant.work_order("WO-1", "TAB")
    return plant, lot, work_order


def balances(plant, lot):
    with plant.sessions() as s:
        rows = s.execute(select(Balance.location_id, Balance.quantity).where(Balance.lot_id == lot.id))
        return {location: quantity for location, quantity in rows}


def row_counts(plant):
    with plant.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (LedgerEntry, StagedLot, Balance))


def test_receiving_ten_and_staging_four_leaves_six_in_stock_and_four_in_wip(staged_order):
    plant, lot, work_order = staged_order
    plant.stage(work_order, lot, "4.000")
    assert balances(plant, lot) == {plant.locations["STOCK"]: Decimal("6.000"), plant.locations["WIP"]: Decimal("4.000")}
    with plant.sessions() as s:
        assert check_consistency(s) == []
        assert audit.verify(s).ok


@pytest.mark.parametrize("change, code", [
    ({"scan": "A-2"}, "LOT_SCAN_MISMATCH"),
    ({"quantity": "-1"}, "QUANTITY_NOT_POSITIVE"),
    ({"quantity": "four"}, "INVALID_DECIMAL"),
    ({"quantity": "10.001"}, "INSUFFICIENT_STOCK"),
    ({"quantity": "1.0001"}, "QUANTITY_PRECISION"),
], ids=["wrong scan", "negative", "non-numeric", "more than on hand", "too many decimals"])
def test_a_refused_staging_names_its_rule_and_writes_nothing(staged_order, change, code):
    plant, lot, work_order = staged_order
    before = row_counts(plant)
    with pytest.raises(DomainError) as refused:
        plant.stage(work_order, lot, change.get("quantity", "4.000"), scan=change.get("scan"))
    assert refused.value.code == code
    assert row_counts(plant) == before


def test_staging_an_unknown_lot_is_not_found(staged_order):
    plant, lot, work_order = staged_order
    lot.id = 99999
    with pytest.raises(DomainError) as refused:
        plant.stage(work_order, lot, "1.000", scan="A-1")
    assert refused.value.code == "NOT_FOUND"


def test_a_work_order_cannot_be_released_on_a_draft_bom(plant):
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")], approve=False)
    with pytest.raises(DomainError) as refused:
        plant.work_order("WO-D", "FG")
    assert refused.value.code == "BOM_NOT_APPROVED"
