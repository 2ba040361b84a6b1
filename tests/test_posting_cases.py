"""Engine acceptance cases on a real database: eligibility, bins, alternates, density, serials, scan issue, chains."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backflush.reads import genealogy
from backflush.services import receiving
from backflush.services.boms import AlternateSpec
from backflush.services.ledger import check_consistency
from backflush.services.scan_issue import ScanIssueRequest, scan_issue
from backflush.services.work_orders import OperationSpec
from kernel.errors import DomainError
from models import LedgerEntry, Location, Serial
from tests.builders import Plant, line, post, qa_user, signed, trigger


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions))


def issued(plant, work_order):
    with plant.sessions() as s:
        return [(e.lot_id, e.quantity, e.substitutes_for_item_id, e.line_quantity, e.conversion_factor)
                for e in s.scalars(select(LedgerEntry).where(LedgerEntry.work_order_id == work_order.id,
                                                             LedgerEntry.kind.in_(("BACKFLUSH_ISSUE", "SCAN_ISSUE")))
                                   .order_by(LedgerEntry.id))]


def simple(plant, precision=3):
    plant.item("A", "kg", precision)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])


def test_a_quarantined_lot_is_never_consumed(plant):
    simple(plant)
    held = plant.receive("A", "Q-1", "10.000", status="QUARANTINE")
    good = plant.receive("A", "R-1", "3.000", expires_on=date.today() + timedelta(days=400))
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, held, "10.000")
    plant.stage(order, good, "3.000")
    assert post(plant, trigger(order, "3")).trigger.outcome == "POSTED"
    blocked = post(plant, trigger(order, "1")).trigger
    assert [r["code"] for r in blocked.block_reasons] == ["LOT_NOT_RELEASED"]
    assert [(lot, qty) for lot, qty, *_ in issued(plant, order)] == [(good.id, Decimal("3.000"))]


def test_lots_staged_to_another_work_order_are_never_consumed(plant):
    simple(plant)
    lot = plant.receive("A", "A-1", "10.000")
    mine, theirs = plant.work_order("WO-1", "FG"), plant.work_order("WO-2", "FG")
    plant.stage(theirs, lot, "8.000")
    plant.stage(mine, lot, "2.000")
    blocked = post(plant, trigger(mine, "3")).trigger
    assert [(r["code"], r["required"], r["eligible"]) for r in blocked.block_reasons] == \
        [("INSUFFICIENT_STAGED_STOCK", "3.000", "2.000")]
    assert issued(plant, mine) == []


def test_stock_staged_at_the_wrong_input_location_is_a_bin_mismatch(plant):
    simple(plant)
    with plant.sessions() as s:
        cell = Location(site_id=plant.site_id, code="CELL-2", kind="WIP")
        s.add(cell)
        s.commit()
        cell_id = cell.id
    lot = plant.receive("A", "A-1", "10.000")
    order = plant.work_order("WO-1", "FG", operations=[OperationSpec(10, "Blend", input_location_id=cell_id)])
    plant.stage(order, lot, "10.000")  # to the WIP location, not CELL-2 where operation 10 draws
    blocked = post(plant, trigger(order, "4")).trigger
    assert [r["code"] for r in blocked.block_reasons] == ["BIN_MISMATCH"]
    plant.stage(order, plant.receive("A", "A-2", "5.000"), "5.000", to_location_id=cell_id)
    assert post(plant, trigger(order, "4")).trigger.outcome == "POSTED"


def test_an_alternate_fills_the_primary_shortfall_and_records_what_it_substitutes(plant):
    plant.item("A", "kg", 3)
    plant.item("B", "kg", 3)
    primary_id = plant.item("P", "kg", 3).id
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "P", "0.5", scrap_percent="2", setup_scrap="0.2", scrap_source="PV-1",
                          alternates=[AlternateSpec("B", "1.1", 1)])])
    p, b = plant.receive("P", "P-1", "10.000"), plant.receive("B", "B-1", "5.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, p, "10.000")
    plant.stage(order, b, "5.000")
    post(plant, trigger(order, "15", scrap="1"))
    post(plant, trigger(order, "4"))
    rows = [(lot, qty, sub) for lot, qty, sub, *_ in issued(plant, order)]
    assert rows == [(p.id, Decimal("8.360"), None), (p.id, Decimal("1.640"), None), (b.id, Decimal("0.440"), primary_id)]


def test_a_density_measured_per_lot_converts_litres_to_kilograms_lot_by_lot(plant):
    plant.item("SOLV", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.conversion("SOLV", "L", "kg", "0.80")
    plant.bom("FG", [line(1, "SOLV", "2.5", "L")])
    s1 = plant.receive("SOLV", "S1", "120.000", expires_on=date.today() + timedelta(days=30),
                       conversions=[receiving.LotConversionSpec("L", "kg", "0.80")])
    s2 = plant.receive("SOLV", "S2", "200.000", expires_on=date.today() + timedelta(days=60),
                       conversions=[receiving.LotConversionSpec("L", "kg", "0.79")])
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, s1, "120.000")
    plant.stage(order, s2, "200.000")
    post(plant, trigger(order, "100"))
    assert issued(plant, order) == [(s1.id, Decimal("120.000"), None, Decimal("150"), Decimal("0.80")),
                                    (s2.id, Decimal("79.000"), None, Decimal("100"), Decimal("0.79"))]


def test_a_serialized_line_needs_matching_scans_and_each_serial_is_consumed_once(plant):
    plant.item("DEV", "ea", 0, serialized=True)
    plant.item("KIT", "ea", 0)
    plant.bom("KIT", [line(1, "DEV", "1", "ea")])
    lot = plant.receive("DEV", "D-1", "3", serials=["SN1", "SN2", "SN3"])
    order = plant.work_order("WO-1", "KIT")
    plant.stage(order, lot, "3")
    blocked = post(plant, trigger(order, "2", serials=((1, "SN1"),))).trigger
    assert [r["code"] for r in blocked.block_reasons] == ["SERIAL_SCAN_REQUIRED"]
    assert post(plant, trigger(order, "2", serials=((1, "SN1"), (1, "SN2")))).trigger.outcome == "POSTED"
    again = post(plant, trigger(order, "1", serials=((1, "SN1"),))).trigger
    assert [r["code"] for r in again.block_reasons] == ["SERIAL_SCAN_REQUIRED"], "SN1 is already consumed"
    with plant.sessions() as s:
        consumed = s.scalars(select(Serial.serial).where(Serial.consumed_by_entry_id.is_not(None))).all()
    assert sorted(consumed) == ["SN1", "SN2"]


def test_serial_scans_are_refused_beyond_the_units_posted_and_on_unserialized_lines(plant):
    plant.item("DEV", "ea", 0, serialized=True)
    plant.item("BOX", "ea", 0)
    plant.item("KIT", "ea", 0)
    plant.bom("KIT", [line(1, "DEV", "1", "ea"), line(2, "BOX", "1", "ea")])
    devices = plant.receive("DEV", "D-1", "3", serials=["SN1", "SN2", "SN3"])
    boxes = plant.receive("BOX", "B-1", "3")
    order = plant.work_order("WO-1", "KIT")
    plant.stage(order, devices, "3")
    plant.stage(order, boxes, "3")
    with plant.sessions() as s:
        before = s.scalar(select(func.count()).select_from(LedgerEntry))
    for serials, code in [(((1, "SN1"), (1, "SN2"), (1, "SN3")), "TOO_MANY_SERIALS"),
                          (((1, "SN1"), (1, "SN2"), (2, "BOX-SN")), "NOT_SERIALIZED"),
                          (((1, "SN1"), (1, "SN2"), (9, "SN3")), "NOT_SERIALIZED")]:
        with pytest.raises(DomainError) as refused:
            post(plant, trigger(order, "2", serials=serials))
        assert (refused.value.code, refused.value.field) == (code, ["input", "serials"])
    with plant.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == before
    assert post(plant, trigger(order, "2", serials=((1, "SN1"), (1, "SN2")))).trigger.outcome == "POSTED"


def test_scan_issue_posts_the_weighed_quantity_of_the_scanned_lot_and_links_genealogy(plant):
    plant.item("API", "kg", 3, variable_potency=True)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "API", "0.2", posting_method="SCAN_ISSUE")])
    lot = plant.receive("API", "API-9", "5.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "5.000")
    request = ScanIssueRequest(work_order_id=order.id, line_no=1, lot_id=lot.id, quantity="2.013", scanned_lot_number="API-9")
    with pytest.raises(DomainError) as wrong_scan:
        plant.run(scan_issue, ScanIssueRequest(**{**request.__dict__, "scanned_lot_number": "API-8"}))
    assert wrong_scan.value.code == "LOT_SCAN_MISMATCH"
    plant.run(scan_issue, request)
    assert [(l, q) for l, q, *_ in issued(plant, order)] == [(lot.id, Decimal("2.013"))]
    with plant.sessions() as s:
        tree = genealogy.backward_tree(s, root_lot_id=order.output_lot_id)
        assert [(e.from_lot_id, e.quantity) for e in tree.edges] == [(lot.id, Decimal("2.013"))]
        assert check_consistency(s) == []


def test_three_levels_of_real_postings_build_a_tree_that_one_statement_reads(plant, engine):
    from sqlalchemy import event
    plant.item("API", "kg", 3)
    for code in ("GRAN", "TAB", "PACK"):
        plant.item(code, "kg", 3)
    plant.bom("GRAN", [line(1, "API", "0.5")])
    plant.bom("TAB", [line(1, "GRAN", "1")])
    plant.bom("PACK", [line(1, "TAB", "1")])
    api_lot = plant.receive("API", "API-1", "100.000")
    previous = api_lot
    orders = {}
    for code, qty in (("GRAN", "40"), ("TAB", "30"), ("PACK", "20")):
        order = plant.work_order(f"WO-{code}", code, "100")
        plant.stage(order, previous, qty if code != "GRAN" else "20.000", from_kind="STOCK" if code == "GRAN" else "FINISHED")
        post(plant, trigger(order, qty))
        plant.run(receiving.set_lot_status, lot_id=order.output_lot_id, status="RELEASED", reason="QA release",
                  signature=signed("Released"))
        with plant.sessions() as s:
            previous = s.get(type(api_lot), order.output_lot_id)
        orders[code] = order
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with plant.sessions() as s:
        s.connection()
        statements.clear()
        backward = genealogy.backward_tree(s, root_lot_id=orders["PACK"].output_lot_id)
        assert len(statements) == 1
        forward = genealogy.forward_tree(s, root_lot_id=api_lot.id)
    assert [(e.level, e.quantity) for e in backward.edges] == [(1, Decimal("20.000")), (2, Decimal("30.000")), (3, Decimal("20.000"))]
    assert forward.lot_ids[-1] == orders["PACK"].output_lot_id
