"""Properties of plan_trigger that must hold for any BOM, any stock and any way output is reported."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from backflush.core.plan import TriggerPlan
from backflush.core.usage import Alternate, Conversion
from tests.core import PLENTY, InMemoryWorkOrder, bom, item, line, lot


def amounts(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=places,
                       allow_nan=False, allow_infinity=False)


@st.composite
def flushed_lines(draw) -> InMemoryWorkOrder:
    """One BOM line with arbitrary scrap, yield, setup, base quantity, precision, rounding and uom."""
    component = item("C", "kg", draw(st.integers(0, 4)), rounding=draw(st.sampled_from(["HALF_UP", "UP", "DOWN"])))
    bom_line = line(component, draw(amounts("0.0001", "50", 4)), uom=draw(st.sampled_from(["kg", "g"])),
                    scrap_percent=draw(amounts("0", "10", 1)), yield_percent=draw(amounts("50", "100", 1)),
                    setup_scrap=draw(amounts("0", "5", 2)))
    return InMemoryWorkOrder(bom(bom_line, base_quantity=draw(st.sampled_from(["1", "3", "12", "1000"]))),
                             bindings=(lot(component, PLENTY, lot_number="C1"),),
                             conversions=(Conversion("kg", "g", "1000"),))


reports = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 5)), min_size=1, max_size=8)


def total_posted(plans: list[TriggerPlan]) -> Decimal:
    return sum((d.quantity for plan in plans for d in plan.draws), Decimal(0))


@settings(max_examples=150, deadline=None)
@given(flushed_lines(), reports)
def test_any_split_of_the_same_output_posts_exactly_what_one_trigger_would(split_order, parts) -> None:
    whole_order = InMemoryWorkOrder(split_order.bom, bindings=split_order.bindings, conversions=split_order.conversions)
    good, scrap = sum(g for g, _ in parts), sum(s for _, s in parts)

    in_parts = [split_order.post(str(g), str(s)) for g, s in parts]
    at_once = [whole_order.post(str(good), str(scrap))]

    assert not any(plan.blocked for plan in in_parts + at_once)
    assert total_posted(in_parts) == total_posted(at_once)


STATUSES = ["RELEASED", "RELEASED", "RELEASED", "QUARANTINE", "ON_HOLD"]


@st.composite
def staged_floors(draw) -> tuple[InMemoryWorkOrder, str]:
    """Two components, lines that may share them or use one as the other's alternate, random stock."""
    a, b = item("A", "kg", draw(st.integers(0, 3))), item("B", "kg", draw(st.integers(0, 3)))
    lines = [line(draw(st.sampled_from([a, b])), draw(amounts("0.01", "5", 2)), line_no=10 * (n + 1),
                  scrap_percent=draw(amounts("0", "5", 1)),
                  alternates=(Alternate(b, draw(amounts("0.5", "2", 1))),) if draw(st.booleans()) else ())
             for n in range(draw(st.integers(1, 3)))]
    bindings = tuple(
        lot(draw(st.sampled_from([a, b])), str(draw(amounts("0", "60", 3))), lot_number=f"L{n}",
            status=draw(st.sampled_from(STATUSES)), expires_in_days=draw(st.none() | st.integers(-5, 30)),
            received_day=draw(st.integers(1, 28)), location=draw(st.sampled_from(["WIP", "WIP", "CELL"])))
        for n in range(draw(st.integers(0, 6))))
    good = str(draw(st.integers(0, 30)))
    return InMemoryWorkOrder(bom(*lines), bindings=bindings), good


@settings(max_examples=300, deadline=None)
@given(staged_floors())
def test_no_draw_ever_exceeds_what_is_left_of_its_binding(floor) -> None:
    work_order, good = floor
    left = {b.binding_id: b.remaining for b in work_order.bindings}

    plan = work_order.post(good)

    drawn: dict[object, Decimal] = {}
    for draw in plan.draws:
        assert draw.quantity > 0
        drawn[draw.binding_id] = drawn.get(draw.binding_id, Decimal(0)) + draw.quantity
    assert all(quantity <= left[binding_id] for binding_id, quantity in drawn.items())


@settings(max_examples=300, deadline=None)
@given(staged_floors(), st.sampled_from([None, "0", "500"]))
def test_a_plan_never_mixes_draws_and_block_reasons(floor, clock_skew) -> None:
    work_order, good = floor

    plan = work_order.post(good, clock_skew_seconds=clock_skew)

    assert not (plan.draws and plan.block_reasons)
    assert plan.blocked == bool(plan.block_reasons)
