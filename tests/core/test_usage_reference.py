"""SPEC §4.1 reference table, row by row, with exact Decimal figures.

Multi-trigger rows post through an in-memory work order that feeds each posting back, the way the
service reads already-posted totals from the ledger.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from backflush.core.plan import TriggerPlan
from backflush.core.usage import Conversion
from tests.core import PLENTY, InMemoryWorkOrder, bom, item, line, lot, posted_by_component


@dataclass(frozen=True)
class Row:
    work_order: Callable[[], InMemoryWorkOrder]
    triggers: tuple[tuple[str, str, int | None], ...]  # good, scrap, operation
    observe: Callable[[list[TriggerPlan]], object]
    expected: object


def each_trigger(plans: list[TriggerPlan]) -> tuple[dict[str, str], ...]:
    return tuple(posted_by_component(plan) for plan in plans)


def in_total(plans: list[TriggerPlan]) -> str:
    return format(sum((draw.quantity for plan in plans for draw in plan.draws), Decimal(0)), "f")


def draws_with_factors(plans: list[TriggerPlan]) -> tuple[tuple[str, ...], ...]:
    return tuple((d.lot_number, format(d.quantity, "f"), d.uom, format(d.line_quantity, "f"), d.line_uom,
                  format(d.factor, "f")) for plan in plans for d in plan.draws)


def mass_with_scrap() -> InMemoryWorkOrder:
    powder = item("C", "kg", 4)
    # Only kg → g is on file: the line's g → kg has to be its exact inverse.
    return InMemoryWorkOrder(bom(line(powder, "0.5", uom="g", scrap_percent="2")),
                             bindings=(lot(powder, "100", lot_number="P1"),),
                             conversions=(Conversion("kg", "g", "1000"),))


def eaches_half_up() -> InMemoryWorkOrder:
    screw = item("C")
    return InMemoryWorkOrder(bom(line(screw, "1", scrap_percent="1")), bindings=(lot(screw, "1000", lot_number="S1"),))


def per_case_packaging() -> InMemoryWorkOrder:
    carton = item("C")
    return InMemoryWorkOrder(bom(line(carton, "1"), base_quantity="12"), bindings=(lot(carton, "100", lot_number="K1"),))


def setup_scrap() -> InMemoryWorkOrder:
    label = item("C")
    return InMemoryWorkOrder(bom(line(label, "1", setup_scrap="5")), bindings=(lot(label, "1000", lot_number="LB1"),))


def no_drift() -> InMemoryWorkOrder:
    pigment = item("C", "kg", 3)
    return InMemoryWorkOrder(bom(line(pigment, "0.0003")), bindings=(lot(pigment, "10", lot_number="PG1"),))


def phantom() -> InMemoryWorkOrder:
    sub_assembly, resin = item("PH", phantom=True), item("C", "g")
    return InMemoryWorkOrder(bom(line(sub_assembly, "2")),
                             phantom_boms={"PH": bom(line(resin, "3"), item_code="PH")},
                             bindings=(lot(resin, "1000", lot_number="R1"),))


def yield_divisor() -> InMemoryWorkOrder:
    alloy = item("C", "kg", 3)
    return InMemoryWorkOrder(bom(line(alloy, "2", yield_percent="95")), bindings=(lot(alloy, "1000", lot_number="A1"),))


def operation_split() -> InMemoryWorkOrder:
    rivet = item("C")
    return InMemoryWorkOrder(bom(line(rivet, "24", line_no=10, operation_seq=10),
                                 line(rivet, "4", line_no=20, operation_seq=20)),
                             operations=(10, 20), bindings=(lot(rivet, PLENTY, lot_number="RV1"),))


def lot_density() -> InMemoryWorkOrder:
    solvent = item("C", "kg", 3)
    return InMemoryWorkOrder(bom(line(solvent, "2.5", uom="L")), bindings=(
        lot(solvent, "120", lot_number="S1", received_day=1, density=("L", "kg", "0.80")),
        lot(solvent, "500", lot_number="S2", received_day=2, density=("L", "kg", "0.79"))))


ROWS = [
    pytest.param(Row(mass_with_scrap, (("1000", "20", None),), each_trigger, ({"C": "0.5202"},)),
                 id="mass with scrap posts 0.5202 kg"),
    pytest.param(Row(eaches_half_up, (("100", "0", None), ("50", "0", None)), each_trigger,
                     ({"C": "101"}, {"C": "51"})),
                 id="eaches half-up post 101 then 51"),
    pytest.param(Row(per_case_packaging, (("100", "0", None), ("100", "0", None)), each_trigger,
                     ({"C": "8"}, {"C": "9"})),
                 id="per-case packaging posts 8 cartons then 9"),
    pytest.param(Row(setup_scrap, (("10", "0", None), ("10", "0", None)), each_trigger,
                     ({"C": "15"}, {"C": "10"})),
                 id="setup scrap is posted once with the first trigger"),
    pytest.param(Row(no_drift, (("1", "0", None),) * 1000, in_total, "0.300"),
                 id="a thousand single-unit triggers post exactly 0.300 kg"),
    pytest.param(Row(phantom, (("10", "0", None),), each_trigger, ({"C": "60"},)),
                 id="a phantom is exploded into 60 g of its component and never posted itself"),
    pytest.param(Row(yield_divisor, (("100", "0", None),), each_trigger, ({"C": "210.526"},)),
                 id="yield divides the need to 210.526 kg"),
    pytest.param(Row(operation_split, (("10", "0", 10),), each_trigger, ({"C": "240"},)),
                 id="operation 10 flushes only its own 240 not the 280 of the whole BOM"),
    pytest.param(Row(lot_density, (("100", "0", None),), draws_with_factors,
                     (("S1", "120.000", "kg", "150.000", "L", "0.80"), ("S2", "79.000", "kg", "100.000", "L", "0.79"))),
                 id="lot density converts each lot's litres with its own factor"),
]


@pytest.mark.parametrize("row", ROWS)
def test_reference_row_posts_exactly_what_the_spec_table_says(row: Row) -> None:
    work_order = row.work_order()

    plans = [work_order.post(good, scrap, op) for good, scrap, op in row.triggers]

    assert [plan.block_reasons for plan in plans if plan.blocked] == []
    assert row.observe(plans) == row.expected


def test_six_units_of_a_one_per_twelve_carton_are_exactly_half_a_carton_and_round_up_to_one() -> None:
    # A Decimal 1/12 taken six times is 0.4999…: the ratio must stay exact until the one rounding.
    work_order = per_case_packaging()

    assert posted_by_component(work_order.post("6")) == {"C": "1"}


def test_a_phantom_bom_is_read_per_its_own_base_quantity_and_scrap_multiplies_through() -> None:
    sub_assembly, resin = item("PH", phantom=True), item("C", "g")
    work_order = InMemoryWorkOrder(bom(line(sub_assembly, "2", scrap_percent="10")),
                                   phantom_boms={"PH": bom(line(resin, "12"), base_quantity="4", item_code="PH")},
                                   bindings=(lot(resin, "1000", lot_number="R1"),))

    assert posted_by_component(work_order.post("10")) == {"C": "66"}
