"""Rework: a rework order consumes the nonconforming lot itself plus recipe components into a new lot;
salvaged components go back with reason SALVAGE; genealogy stays whole across the rework."""
from decimal import Decimal

from sqlalchemy import select

from backflush.reads import genealogy
from backflush.services import boms, receiving
from backflush.services.ledger import check_consistency
from backflush.services.returns import return_to_stock
from backflush.services.scan_issue import ScanIssueRequest, scan_issue
from models import LedgerEntry, Lot
from tests.builders import Plant, line, post, qa_user, signed, trigger


def test_a_rework_order_turns_a_held_lot_into_a_new_lot_with_whole_genealogy(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("API", "kg", 3)
    plant.item("LBL", "ea", 0)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "API", "0.1"), line(2, "LBL", "1", "ea")])
    api_lot, labels = plant.receive("API", "API-1", "5.000"), plant.receive("LBL", "LBL-1", "40")
    made = plant.work_order("WO-1", "FG", "10")
    plant.stage(made, api_lot, "1.000")
    plant.stage(made, labels, "10")
    post(plant, trigger(made, "10"))
    plant.run(receiving.set_lot_status, lot_id=made.output_lot_id, status="ON_HOLD", reason="Smudged labels",
              signature=None)

    recipe = plant.run(boms.create_bom, item_code="FG",
                       base_quantity="1", rework=True,
                       lines=[line(1, "FG", "1", "ea", posting_method="SCAN_ISSUE"), line(2, "LBL", "1", "ea")])
    plant.run(boms.approve_bom, bom_id=recipe.id,
              signature=signed(), effective_from=None)
    rework = plant.work_order("RW-1", "FG", "10", rework=True)
    with sessions() as s:
        held = s.get(Lot, made.output_lot_id)
    plant.stage(rework, held, "10", from_kind="FINISHED")
    plant.stage(rework, labels, "12")
    plant.run(scan_issue, ScanIssueRequest(work_order_id=rework.id, line_no=1, lot_id=held.id, quantity="10",
                                           scanned_lot_number=held.lot_number))
    assert post(plant, trigger(rework, "10")).trigger.outcome == "POSTED"
    plant.run(return_to_stock, work_order_id=rework.id, lot_id=labels.id, to_location_id=plant.locations["STOCK"],
              quantity="2", reason_code="SALVAGE", scanned_lot_number="LBL-1")

    with sessions() as s:
        salvage = s.scalars(select(LedgerEntry).where(LedgerEntry.reason_code == "SALVAGE")).one()
        assert (salvage.kind, salvage.quantity, salvage.to_location_id) == ("RETURN", Decimal("2"), plant.locations["STOCK"])
        tree = genealogy.backward_tree(s, root_lot_id=rework.output_lot_id)
        edges = {(e.level, e.from_lot_id, e.to_lot_id, e.quantity) for e in tree.edges}
        assert edges == {(1, held.id, rework.output_lot_id, Decimal("10")), (1, labels.id, rework.output_lot_id, Decimal("10")),
                         (2, api_lot.id, held.id, Decimal("1.000")), (2, labels.id, held.id, Decimal("10"))}
        assert check_consistency(s) == []
