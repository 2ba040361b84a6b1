"""Builders for the pure-core specifications: small work orders written in shop-floor terms.

Quantities are given as strings, the way they arrive on the wire; the records turn them into Decimal.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from backflush.core.allocation import Binding
from backflush.core.plan import OperationTotals, TriggerFacts, TriggerPlan, TriggerRequest, WorkOrderFacts, plan_trigger
from backflush.core.quantity import ZERO
from backflush.core.usage import Bom, BomLine, Component, Conversion, LotFactor, PriorPosting

WIP = "WIP"
POSTED_AT = datetime(2025, 6, 2, 8, 0)
PLENTY = "1000000000"


def item(code: str, uom: str = "ea", precision: int = 0, **flags) -> Component:
    return Component(code, uom, precision, **flags)


def line(component: Component, quantity: str, *, line_no: int = 10, uom: str | None = None, **terms) -> BomLine:
    return BomLine(line_no, component, quantity, uom or component.base_uom, **terms)


def bom(*lines: BomLine, base_quantity: str = "1", item_code: str = "FG") -> Bom:
    return Bom(item_code, tuple(lines), base_quantity)


def lot(component: Component, remaining: str, *, lot_number: str, expires_in_days: int | None = None,
        received_day: int = 1, status: str = "RELEASED", location: str = WIP,
        density: tuple[str, str, str] | None = None, serials: tuple[str, ...] = ()) -> Binding:
    """A binding of a lot staged to the work order; `density` is a lot factor (from, to, factor)."""
    expires_on = None if expires_in_days is None else POSTED_AT.date() + timedelta(days=expires_in_days)
    factors = () if density is None else (LotFactor(*density),)
    return Binding(f"B-{lot_number}", f"L-{lot_number}", lot_number, component.code, status, expires_on,
                   datetime(2025, 1, received_day), location, remaining, factors, frozenset(serials))


class InMemoryWorkOrder:
    """Plays the posting service: plans each trigger and books what it draws, feeding totals back."""

    def __init__(self, bom: Bom, *, bindings: tuple[Binding, ...] = (), operations: tuple[int, ...] = (10,),
                 planned: str = PLENTY, tolerance: str = "0", conversions: tuple[Conversion, ...] = (),
                 phantom_boms: dict[str, Bom] | None = None, input_locations: dict[int, str] | None = None):
        self.bom, self.bindings, self.conversions = bom, tuple(bindings), tuple(conversions)
        self.phantom_boms = phantom_boms or {}
        self.order = WorkOrderFacts(planned, tuple(operations), WIP, tolerance, input_locations or {})

    def facts(self, good: str, scrap: str = "0", op: int | None = None, **context) -> TriggerFacts:
        trigger_terms = {k: context.pop(k) for k in ("serials",) if k in context}
        return TriggerFacts(TriggerRequest(good, scrap, op, **trigger_terms), self.order, self.bom, POSTED_AT,
                            self.bindings, self.conversions, self.phantom_boms, **context)

    def post(self, good: str, scrap: str = "0", op: int | None = None, **context) -> TriggerPlan:
        plan = plan_trigger(self.facts(good, scrap, op, **context))
        if not plan.blocked:
            self._book(plan, good=Decimal(good), scrap=Decimal(scrap))
        return plan

    def _book(self, plan: TriggerPlan, *, good: Decimal, scrap: Decimal) -> None:
        drawn = {}
        for draw in plan.draws:
            drawn[draw.binding_id] = drawn.get(draw.binding_id, ZERO) + draw.quantity
        self.bindings = tuple(replace(b, remaining=b.remaining - drawn.get(b.binding_id, ZERO)) for b in self.bindings)
        booked = tuple(PriorPosting(d.line_no, d.component_code, d.quantity, d.substitutes_for, d.line_quantity)
                       for d in plan.draws)
        totals = dict(self.order.posted_by_operation)
        before = totals.get(plan.operation_seq, OperationTotals())
        totals[plan.operation_seq] = OperationTotals(before.good + good, before.scrap + scrap)
        self.order = replace(self.order, posted_by_operation=totals,
                             prior_postings=self.order.prior_postings + booked)


def posted_by_component(plan: TriggerPlan) -> dict[str, str]:
    """What one plan posts, summed per component, written as the wire would show it."""
    totals: dict[str, Decimal] = {}
    for draw in plan.draws:
        totals[draw.component_code] = totals.get(draw.component_code, ZERO) + draw.quantity
    return {code: format(total, "f") for code, total in totals.items()}
