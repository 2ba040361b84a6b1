"""Close a work order (SPEC §4.5): nothing pending, every staged residual returned or scrapped, then
one ComponentVariance row per BOM line and per alternate used; out-of-limit variances open deviations.

All in one transaction: a close that is refused (a residual left, say) leaves the dispositions it was
given unbooked too, so the operator fixes the request and sends it again.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core import usage
from backflush.core.plan import OperationTotals
from backflush.core.variances import AlternateTerms, LineTerms, VarianceRow, component_variances
from backflush.core.vocabulary import LocationKind, TriggerOutcome
from backflush.insight.control_limits import DEFAULT_WINDOW, ControlWindow
from backflush.insight.signals import closing_order_signals, signal_fact
from backflush.policies.reversal_policy import ClosePolicy, store_decisions
from backflush.policies.rules_exception_policy import RulesClosePolicy
from backflush.services.arguments import choice_arg, text_arg
from backflush.services.deviations import open_or_attach
from backflush.services.ledger import lock_balances
from backflush.services.masterdata import location_in_sites
from backflush.services.receiving import lot_in_sites
from backflush.services.released_facts import ItemFacts
from backflush.services.returns import book_residual, quarantine, require_scan, return_location, staged_bindings
from backflush.services.trigger_facts import OrderFacts, load_order_facts
from backflush.services.work_orders import require_open, work_order_in_sites
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError, ManyErrors
from models import ComponentVariance, Item, Location, Lot, Reversal, Trigger, WorkOrder
from models.stored import stored_id
from models.types import utcnow

DISPOSITIONS = frozenset({"RETURN_TO_STOCK", "SCRAP"})


@dataclass(frozen=True)
class ResidualSpec:
    lot_id: int | None
    disposition: str  # RETURN_TO_STOCK or SCRAP
    reason_code: str
    to_location_id: int | None = None
    scanned_lot_number: str | None = None


def close_work_order(session: Session, principal: Principal, *, work_order_id: int | None,
                     residuals: Sequence[ResidualSpec] = (), policy: ClosePolicy | None = None,
                     control_window: ControlWindow = DEFAULT_WINDOW) -> WorkOrder:
    work_order = work_order_in_sites(session, principal, work_order_id, lock=True)
    require_open(work_order)
    before = {"status": work_order.status}
    _require_nothing_pending(session, work_order)
    for index, spec in enumerate(residuals):
        _resolve(session, principal, work_order, spec, index)
    _require_residuals_resolved(session, work_order)
    rows = book_variances(session, work_order)
    signals = control_signal_facts(session, work_order, control_window)
    opened = _open_deviations(session, principal, work_order, rows, signals, policy or RulesClosePolicy())
    work_order.status, work_order.closed_at = "CLOSED", utcnow()
    audit.record(session, actor=principal.subject, action="work_order.closed", entity_type="work_order",
                 entity_id=work_order.id, before=before,
                 after={"status": "CLOSED", "variance_rows": len(rows), "deviations": opened})
    return work_order


def _require_nothing_pending(session: Session, work_order: WorkOrder) -> None:
    blocked = session.scalar(select(func.count()).select_from(Trigger).where(
        col(Trigger.work_order_id) == work_order.id, col(Trigger.outcome) == TriggerOutcome.BLOCKED))
    if blocked:
        raise DomainError("PENDING_BLOCKED_TRIGGERS", f"{blocked} blocked trigger(s) must be retried or discarded "
                          "before the order can close", ["input", "workOrderId"])
    pending = session.scalar(select(func.count()).select_from(Reversal)
                             .join(Trigger, col(Trigger.id) == col(Reversal.trigger_id))
                             .where(col(Trigger.work_order_id) == work_order.id,
                                    col(Reversal.status) == "PENDING_SIGNATURES"))
    if pending:  # closing would strand it: a closed order accepts no reversal
        raise DomainError("PENDING_REVERSALS", f"{pending} reversal(s) await signatures; sign or reject them first",
                          ["input", "workOrderId"])


def _resolve(session: Session, principal: Principal, work_order: WorkOrder, spec: ResidualSpec, index: int) -> None:
    """Return or scrap all that remains staged of one lot; errors point at the residual that caused them."""
    try:
        choice_arg(spec.disposition, "disposition", DISPOSITIONS)
        reason_code = text_arg(spec.reason_code, "reasonCode", max_length=40)
        lot = lot_in_sites(session, principal, spec.lot_id, lock=True)
        target = _residual_target(session, principal, work_order, lot, spec)
        bindings = staged_bindings(session, stored_id(work_order), lot.id)
        if not bindings:
            raise DomainError("LOT_NOT_STAGED", f"nothing of lot {lot.lot_number} remains staged", ["input", "lotId"])
        target_id = None if target is None else stored_id(target)
        lock_balances(session, [(stored_id(lot), b.location_id) for b in bindings]
                      + ([(stored_id(lot), target_id)] if target_id is not None else []))
        item = referenced_row(session, Item, lot.item_id)
        for binding in bindings:
            book_residual(session, principal, kind="RETURN" if target else "SCRAP", work_order=work_order, lot=lot,
                          item=item, binding=binding, quantity=binding.remaining_quantity, reason_code=reason_code,
                          to_location_id=target_id)
        if target is not None and target.kind == LocationKind.QUARANTINE:
            quarantine(session, principal, lot, reason_code)
    except DomainError as error:
        raise DomainError(error.code, f"residual {index + 1}: {error.message}",
                          ["input", "residuals", str(index), *(error.field or [])[1:]]) from None


def _residual_target(session: Session, principal: Principal, work_order: WorkOrder, lot: Lot,
                     spec: ResidualSpec) -> Location | None:
    """None for scrap. A scrap needs no scan, but a scan given must match; a return to a QUARANTINE
    bin is an exposed return."""
    if spec.disposition == "SCRAP":
        if spec.scanned_lot_number:
            require_scan(lot, spec.scanned_lot_number)
        return None
    require_scan(lot, spec.scanned_lot_number)
    given = location_in_sites(session, principal, spec.to_location_id, "toLocationId") if spec.to_location_id else None
    exposed = given is not None and given.kind == LocationKind.QUARANTINE
    return return_location(session, principal, work_order, spec.to_location_id, exposed=exposed)


def _require_residuals_resolved(session: Session, work_order: WorkOrder) -> None:
    left: dict[int, Decimal] = defaultdict(Decimal)
    for binding in staged_bindings(session, stored_id(work_order)):
        left[binding.lot_id] += binding.remaining_quantity
    errors = []
    for lot_id, quantity in sorted(left.items()):
        lot = referenced_row(session, Lot, lot_id)
        uom = referenced_row(session, Item, lot.item_id).base_uom
        errors.append(DomainError("RESIDUALS_UNRESOLVED", f"lot {lot.lot_number}: {quantity:f} {uom} still staged; "
                                  "return it to stock with a lot scan or scrap it with a reason code",
                                  ["input", "residuals"]))
    if errors:
        raise ManyErrors(errors)


def book_variances(session: Session, work_order: WorkOrder) -> list[ComponentVariance]:
    facts = load_order_facts(session, work_order, at=utcnow(), lock=False)
    totals = facts.work_order.posted_by_operation
    last = max(facts.work_order.operation_seqs)
    issued: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for posting in facts.work_order.prior_postings:  # non-reversed issues of every method
        issued[(posting.line_no, posting.component_code)] += posting.quantity
    try:
        flush_lines = usage.explode(facts.bom, phantom_boms=facts.phantom_boms, conversions=facts.conversions)
        lines = tuple(_line_terms(line, facts, totals.get(line.operation_seq or last, OperationTotals()).scrap)
                      for line in flush_lines)
    except usage.MasterDataError as error:
        raise DomainError(error.code, error.message, ["input", "workOrderId"]) from None
    good_total = totals.get(last, OperationTotals()).good
    rows = [_variance_row(work_order, row, facts.items_by_code)
            for row in component_variances(lines, good_total=good_total, issued=issued)]
    session.add_all(rows)
    session.flush()
    return rows


def _line_terms(line: usage.FlushLine, facts: OrderFacts, scrap_units: Decimal) -> LineTerms:
    factor = _base_factor(line, facts)
    return LineTerms(line_no=line.line_no, component_code=line.component.code, precision=line.component.precision,
                     per_unit=line.per_unit * factor, setup=line.setup * factor, scrap_units=scrap_units,
                     alternates=tuple(AlternateTerms(a.component.code, a.ratio, a.component.precision)
                                      for a in line.alternates))


def _base_factor(line: usage.FlushLine, facts: OrderFacts) -> Fraction:
    """Line uom → base uom. A line converted only by lot-specific factors (measured density) uses the
    factor its postings actually applied, weighted by quantity."""
    try:
        return usage.find_factor(item_code=line.component.code, from_uom=line.uom, to_uom=line.component.base_uom,
                                 conversions=facts.conversions).exact
    except usage.MissingConversion:
        posted = [(p.quantity, p.line_quantity) for p in facts.work_order.prior_postings
                  if p.line_no == line.line_no and p.component_code == line.component.code and p.line_quantity]
        if not posted:
            raise
        return Fraction(sum(base for base, _ in posted)) / Fraction(sum(in_line_uom for _, in_line_uom in posted))


def _variance_row(work_order: WorkOrder, row: VarianceRow, items: dict[str, ItemFacts]) -> ComponentVariance:
    component = items[row.component_code]
    cost = None if component.standard_cost is None else row.usage * component.standard_cost
    return ComponentVariance(
        work_order_id=stored_id(work_order), line_no=row.line_no, component_id=component.id,
        substitutes_for_item_id=items[row.substitutes_for].id if row.substitutes_for else None,
        standard_quantity=row.standard, actual_quantity=row.actual, usage_variance=row.usage,
        yield_variance=row.yield_, mix_variance=row.mix, residual_variance=row.residual,
        variance_percent=row.percent, usage_variance_cost=cost, uom=component.base_uom)


def close_variance_facts(session: Session, work_order: WorkOrder, rows: list[ComponentVariance]) -> list[dict]:
    """The `close_variance` facts of SPEC §6; a row without a standard has no variance_percent."""
    item_code = referenced_row(session, Item, work_order.item_id).code
    facts = []
    for row in rows:
        fact = {"work_order_number": work_order.number, "item_code": item_code,
                "component_code": referenced_row(session, Item, row.component_id).code,
                "is_alternate": row.substitutes_for_item_id is not None, "uom": row.uom,
                "standard_quantity": row.standard_quantity, "actual_quantity": row.actual_quantity,
                "usage_variance": row.usage_variance, "variance_percent": row.variance_percent,
                "variance_value": row.usage_variance_cost}
        facts.append({k: v for k, v in fact.items() if v is not None})
    return facts


def control_signal_facts(session: Session, work_order: WorkOrder, window: ControlWindow) -> list[dict]:
    """The `control_signal` facts of the order being closed: its variances are booked, so its usage is known."""
    product = referenced_row(session, Item, work_order.item_id)
    return [signal_fact(work_order, product, component, signal)
            for component, signal in closing_order_signals(session, work_order, window)]


def _open_deviations(session: Session, principal: Principal, work_order: WorkOrder, rows: list[ComponentVariance],
                     signals: list[dict], policy: ClosePolicy) -> list[str]:
    opened = []
    policy.prepare(session, work_order=work_order, at=utcnow())
    requests = policy.variance_deviations(close_variance_facts(session, work_order, rows), signals)
    store_decisions(session, policy, work_order_id=stored_id(work_order))
    for request in requests:
        deviation = open_or_attach(session, principal, site_id=work_order.site_id, work_order_id=work_order.id,
                                   reason_code=request.reason_code, category=request.category,
                                   severity=request.severity)
        opened.append(deviation.number)
    return opened
