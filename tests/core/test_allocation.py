"""SPEC §4.2 and §4.3: which lots a trigger draws, and when it must post nothing at all."""
from __future__ import annotations

from decimal import Decimal

import pytest

from backflush.core.plan import (
    BIN_MISMATCH,
    CLOCK_SKEW,
    INSUFFICIENT_STAGED_STOCK,
    LOT_EXPIRED,
    LOT_NOT_RELEASED,
    OVER_PRODUCTION,
    QUANTITY_NEGATIVE,
    SERIAL_SCAN_REQUIRED,
    WRONG_OPERATION,
    BlockReason,
    InvalidTrigger,
    SerialScan,
    plan_trigger,
)
from backflush.core.usage import Alternate, Conversion, MissingConversion, PhantomCycle
from tests.core import InMemoryWorkOrder, bom, item, line, lot, posted_by_component

RESIN = item("RES", "kg", 3)
HARDENER = item("HRD", "kg", 3)
SUBSTITUTE = item("SUB", "kg", 3)


def drawn(plan) -> list[tuple[str, str]]:
    return [(d.lot_number, format(d.quantity, "f")) for d in plan.draws]


def reasons(plan) -> list[tuple]:
    return [(r.code, r.component_code, r.required, r.eligible) for r in plan.block_reasons]


def test_fefo_draws_the_first_expiring_lots_and_leaves_an_expired_one_untouched() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(
        lot(RESIN, "50", lot_number="OLD", expires_in_days=-1),
        lot(RESIN, "30", lot_number="LATER", expires_in_days=60),
        lot(RESIN, "30", lot_number="SOON", expires_in_days=10)))

    plan = work_order.post("40")

    assert drawn(plan) == [("SOON", "30.000"), ("LATER", "10.000")]


def test_lots_without_expiry_come_last_then_first_received_then_lot_number() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(
        lot(RESIN, "5", lot_number="NOEXP", received_day=1),
        lot(RESIN, "5", lot_number="B", expires_in_days=30, received_day=3),
        lot(RESIN, "5", lot_number="A", expires_in_days=30, received_day=3),
        lot(RESIN, "5", lot_number="Z", expires_in_days=30, received_day=2)))

    assert [d.lot_number for d in work_order.post("20").draws] == ["Z", "A", "B", "NOEXP"]


def test_a_lot_expiring_on_the_posting_day_is_still_usable() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(lot(RESIN, "5", lot_number="TODAY", expires_in_days=0),))

    assert drawn(work_order.post("5")) == [("TODAY", "5.000")]


def test_a_quarantined_lot_is_never_drawn_even_when_it_expires_first() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(
        lot(RESIN, "100", lot_number="QUAR", status="QUARANTINE", expires_in_days=1),
        lot(RESIN, "100", lot_number="REL", expires_in_days=90)))

    assert drawn(work_order.post("10")) == [("REL", "10.000")]


@pytest.mark.parametrize(("status", "expires_in_days", "code"), [
    ("QUARANTINE", 30, LOT_NOT_RELEASED), ("ON_HOLD", None, LOT_NOT_RELEASED), ("RELEASED", -3, LOT_EXPIRED)])
def test_when_only_unusable_lots_are_staged_the_block_names_why(status, expires_in_days, code) -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(
        lot(RESIN, "100", lot_number="X", status=status, expires_in_days=expires_in_days),))

    plan = work_order.post("10")

    assert reasons(plan) == [(code, "RES", Decimal("10.000"), Decimal("0.000"))]
    assert plan.draws == ()


def test_two_short_lines_block_with_both_reasons_and_nothing_is_drawn() -> None:
    work_order = InMemoryWorkOrder(
        bom(line(RESIN, "1", line_no=10), line(HARDENER, "0.5", line_no=20), line(SUBSTITUTE, "1", line_no=30)),
        bindings=(lot(RESIN, "4", lot_number="R1"), lot(HARDENER, "1", lot_number="H1"),
                  lot(SUBSTITUTE, "100", lot_number="S1")))

    plan = work_order.post("10")

    assert plan.blocked and plan.draws == ()
    assert reasons(plan) == [(INSUFFICIENT_STAGED_STOCK, "RES", Decimal("10.000"), Decimal("4.000")),
                             (INSUFFICIENT_STAGED_STOCK, "HRD", Decimal("5.000"), Decimal("1.000"))]


def test_enough_stock_staged_at_another_location_blocks_as_bin_mismatch() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1", operation_seq=20)), operations=(10, 20),
                                   input_locations={20: "CELL-2"},
                                   bindings=(lot(RESIN, "3", lot_number="HERE", location="CELL-2"),
                                             lot(RESIN, "50", lot_number="THERE", location="WIP")))

    plan = work_order.post("10", op=20)

    assert reasons(plan) == [(BIN_MISMATCH, "RES", Decimal("10.000"), Decimal("3.000"))]


def test_alternates_fill_the_shortfall_and_record_which_primary_they_substitute() -> None:
    # SPEC §4.5 reference: 0.5 kg/unit, scrap 2 %, setup 0.2 kg, alternate ratio 1.1, 10 kg of primary.
    work_order = InMemoryWorkOrder(
        bom(line(RESIN, "0.5", scrap_percent="2", setup_scrap="0.2", alternates=(Alternate(SUBSTITUTE, "1.1"),))),
        bindings=(lot(RESIN, "10", lot_number="R1"), lot(SUBSTITUTE, "5", lot_number="S1")))

    first, second = work_order.post("15", "1"), work_order.post("4")

    assert posted_by_component(first) == {"RES": "8.360"}
    assert [(d.component_code, d.substitutes_for, format(d.quantity, "f"), d.line_no) for d in second.draws] == [
        ("RES", None, "1.640", 10), ("SUB", "RES", "0.440", 10)]


def test_what_an_alternate_posted_counts_for_its_primary_as_quantity_over_ratio() -> None:
    work_order = InMemoryWorkOrder(
        bom(line(RESIN, "0.5", scrap_percent="2", setup_scrap="0.2", alternates=(Alternate(SUBSTITUTE, "1.1"),))),
        bindings=(lot(RESIN, "10", lot_number="R1"), lot(SUBSTITUTE, "5", lot_number="S1")))
    work_order.post("15", "1")
    work_order.post("4")

    third = work_order.post("1")  # cum 10.910 − (10.000 + 0.440 ÷ 1.1) = 0.510 of primary, as 0.561 of SUB

    assert posted_by_component(third) == {"SUB": "0.561"}


def test_alternates_are_drawn_in_priority_order() -> None:
    backup = item("BKP", "kg", 3)
    work_order = InMemoryWorkOrder(
        bom(line(RESIN, "1", alternates=(Alternate(backup, "2", priority=2), Alternate(SUBSTITUTE, "1", priority=1)))),
        bindings=(lot(RESIN, "4", lot_number="R1"), lot(SUBSTITUTE, "1", lot_number="S1"),
                  lot(backup, "100", lot_number="K1")))

    plan = work_order.post("10")

    assert posted_by_component(plan) == {"RES": "4.000", "SUB": "1.000", "BKP": "10.000"}


def test_each_operation_flushes_only_its_own_lines_and_unassigned_lines_go_to_the_last() -> None:
    rivet, box = item("RIV"), item("BOX")
    work_order = InMemoryWorkOrder(
        bom(line(rivet, "24", line_no=10, operation_seq=10), line(rivet, "4", line_no=20, operation_seq=20),
            line(box, "1", line_no=30)),
        operations=(10, 20), bindings=(lot(rivet, "1000", lot_number="RV"), lot(box, "100", lot_number="BX")))

    at_10, at_20 = work_order.post("10", op=10), work_order.post("10", op=20)

    assert posted_by_component(at_10) == {"RIV": "240"}
    assert [(d.line_no, d.component_code, format(d.quantity, "f")) for d in at_20.draws] == [
        (20, "RIV", "40"), (30, "BOX", "10")]


def test_two_lines_of_one_component_share_a_binding_without_overdrawing_it() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1", line_no=10), line(RESIN, "1", line_no=20)),
                                   bindings=(lot(RESIN, "15", lot_number="R1"),))

    plan = work_order.post("10")

    assert reasons(plan) == [(INSUFFICIENT_STAGED_STOCK, "RES", Decimal("10.000"), Decimal("5.000"))]


def test_extra_block_reasons_from_the_blocking_seam_block_the_trigger() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(lot(RESIN, "100", lot_number="R1"),))

    plan = plan_trigger(work_order.facts("1"),
                        blocking_policy=lambda _: [BlockReason("LAB_DEVICE", "Lab devices cannot post")])

    assert [r.code for r in plan.block_reasons] == ["LAB_DEVICE"] and plan.draws == ()


def test_lots_excluded_by_the_eligibility_rule_set_are_not_drawn() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(
        lot(RESIN, "100", lot_number="R1", expires_in_days=5), lot(RESIN, "100", lot_number="R2", expires_in_days=9),
        lot(RESIN, "100", lot_number="R3", expires_in_days=20)))

    by_rule_set = work_order.post("10", excluded_binding_ids=frozenset({"B-R1"}))
    all_but_r3 = work_order.post("10", excluded_binding_ids=frozenset({"B-R1", "B-R2"}))

    assert drawn(by_rule_set) == [("R2", "10.000")]
    assert drawn(all_but_r3) == [("R3", "10.000")]


def test_eligibility_exclusions_name_staged_bindings_never_lots() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(
        lot(RESIN, "100", lot_number="R1", expires_in_days=5), lot(RESIN, "100", lot_number="R2", expires_in_days=9)))

    by_a_lot_id = work_order.post("10", excluded_binding_ids=frozenset({"L-R1"}))

    assert drawn(by_a_lot_id) == [("R1", "10.000")]


def test_a_lot_without_its_own_density_falls_back_to_the_item_conversion() -> None:
    solvent = item("SOL", "kg", 3)
    work_order = InMemoryWorkOrder(
        bom(line(solvent, "2.5", uom="L")), conversions=(Conversion("L", "kg", "0.78", item_code="SOL"),),
        bindings=(lot(solvent, "40", lot_number="S1", density=("kg", "L", "1.25")),
                  lot(solvent, "500", lot_number="S2", received_day=2)))

    plan = work_order.post("100")

    assert [(d.lot_number, format(d.quantity, "f"), format(d.line_quantity, "f"), format(d.factor, "f"))
            for d in plan.draws] == [("S1", "40.000", "50.000", "0.8"), ("S2", "156.000", "200.000", "0.78")]


def test_a_serialized_line_needs_a_matching_scan_per_unit() -> None:
    pump = item("PMP", serialized=True)
    work_order = InMemoryWorkOrder(bom(line(pump, "1")),
                                   bindings=(lot(pump, "5", lot_number="P1", serials=("SN1", "SN2", "SN3")),))

    short = work_order.post("2", serials=(SerialScan(10, "SN1"), SerialScan(10, "BOGUS")))
    complete = work_order.post("2", serials=(SerialScan(10, "SN1"), SerialScan(10, "SN2")))

    assert [(r.code, r.required) for r in short.block_reasons] == [(SERIAL_SCAN_REQUIRED, Decimal("2"))]
    assert short.requirements[0].serial_count == 1
    assert drawn(complete) == [("P1", "2")]


def test_a_device_clock_off_by_more_than_the_limit_blocks() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(lot(RESIN, "100", lot_number="R1"),))

    assert [r.code for r in work_order.post("1", clock_skew_seconds="-121").block_reasons] == [CLOCK_SKEW]
    assert not work_order.post("1", clock_skew_seconds="120").blocked


def test_the_blocking_policy_sees_every_requirement_and_its_reasons_block() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), bindings=(lot(RESIN, "100", lot_number="R1"),))
    seen = []

    def lab_policy(requirements):
        seen.extend(requirements)
        return [BlockReason("LAB_DEVICE", "Lab devices cannot post")]

    plan = plan_trigger(work_order.facts("3"), blocking_policy=lab_policy)

    assert [(r.line_no, r.component_code, r.posting_method, r.required, r.eligible) for r in seen] == [
        (10, "RES", "BACKFLUSH", Decimal("3.000"), Decimal("100.000"))]
    assert [r.code for r in plan.block_reasons] == ["LAB_DEVICE"] and plan.draws == ()


@pytest.mark.parametrize(("good", "scrap", "op", "code", "field"), [
    ("-1", "0", None, QUANTITY_NEGATIVE, ["input", "goodQuantity"]),
    ("1", "-1", None, QUANTITY_NEGATIVE, ["input", "scrapQuantity"]),
    ("1", "0", 99, WRONG_OPERATION, ["input", "operationSeq"]),
    ("106", "0", None, OVER_PRODUCTION, ["input", "goodQuantity"]),
])
def test_invalid_requests_are_refused_not_blocked(good, scrap, op, code, field) -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), planned="100", tolerance="5",
                                   bindings=(lot(RESIN, "1000", lot_number="R1"),))

    with pytest.raises(InvalidTrigger) as refused:
        work_order.post(good, scrap, op)

    assert (refused.value.code, refused.value.field) == (code, field)


def test_good_up_to_the_overproduction_tolerance_is_accepted() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "1")), planned="100", tolerance="5",
                                   bindings=(lot(RESIN, "1000", lot_number="R1"),))
    work_order.post("100")

    assert not work_order.post("5").blocked
    with pytest.raises(InvalidTrigger):
        work_order.post("0.001")


def test_a_missing_conversion_is_an_explicit_error_never_one_to_one() -> None:
    work_order = InMemoryWorkOrder(bom(line(RESIN, "500", uom="g")), bindings=(lot(RESIN, "100", lot_number="R1"),))

    with pytest.raises(MissingConversion):
        work_order.post("1")


def test_a_phantom_that_contains_itself_is_refused() -> None:
    loop = item("PH", phantom=True)
    work_order = InMemoryWorkOrder(bom(line(loop, "1")), phantom_boms={"PH": bom(line(loop, "1"), item_code="PH")})

    with pytest.raises(PhantomCycle):
        work_order.post("1")
