"""Gather, in a bounded number of statements, the plain facts the pure planner needs for one order."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from backflush.core import usage
from backflush.core.allocation import Binding
from backflush.core.plan import OperationTotals, WorkOrderFacts
from backflush.core.vocabulary import TriggerOutcome
from backflush.services.boms import live_bom
from backflush.services.conversions import conversions_in_force, planner_conversions
from backflush.services.released_facts import ItemFacts, OperationFacts, bom_facts, bound_bom, item_facts
from backflush.services.released_facts import operations as order_operations
from models import Item, LedgerEntry, Location, Lot, Serial, StagedLot, Trigger, UomConversion, WorkOrder

ISSUE_KINDS = ("BACKFLUSH_ISSUE", "SCAN_ISSUE", "FORWARD_ISSUE")


@dataclass(frozen=True)
class OrderFacts:
    """Everything about a work order that does not depend on the trigger."""

    work_order: WorkOrderFacts
    bom: usage.Bom
    phantom_boms: dict[str, usage.Bom]
    bindings: tuple[Binding, ...]
    conversions: tuple[usage.Conversion, ...]
    items_by_code: dict[str, ItemFacts]
    operations: tuple[OperationFacts, ...]
    binding_rows: dict[int, StagedLot]  # kept referenced: the session holds them, locked, until booking
    held: tuple = ()  # the bindings' lots and locations, kept referenced so the rules read them from the session


def load_order_facts(session: Session, work_order: WorkOrder, *, at: datetime, lock: bool) -> OrderFacts:
    operations = order_operations(session, work_order.id)
    bom, cached_items = bound_bom(session, work_order.bom_id)
    items = dict(cached_items)
    phantom_boms = _phantom_boms(session, bom, items, at)
    bindings, lot_ids, binding_rows, held = _bindings(session, work_order.id, items, lock=lock)
    conversions = _conversions(session, items, lot_ids, at)
    facts = WorkOrderFacts(
        planned_quantity=work_order.quantity, operation_seqs=tuple(op.seq for op in operations),
        wip_location_id=work_order.wip_location_id, tolerance_percent=work_order.overproduction_tolerance_percent,
        input_locations={op.seq: op.input_location_id for op in operations if op.input_location_id},
        posted_by_operation=_posted_by_operation(session, work_order.id),
        prior_postings=_prior_postings(session, work_order.id),
    )
    return OrderFacts(facts, bom, phantom_boms, bindings, conversions,
                      {i.code: i for i in items.values()}, operations, binding_rows, held)


def _phantom_boms(session: Session, bom: usage.Bom, items: dict[int, ItemFacts], at: datetime) -> dict[str, usage.Bom]:
    """Phantoms explode through the BOM in force at posting time, level by level (depth ≤ 10)."""
    found: dict[str, usage.Bom] = {}
    pending = [l.component for l in bom.lines if l.component.phantom]
    by_code = {i.code: i for i in items.values()}
    for _ in range(usage.MAX_PHANTOM_DEPTH + 1):
        pending = [c for c in pending if c.code not in found]
        if not pending:
            break
        next_level = []
        for component in pending:
            row = live_bom(session, by_code[component.code].id, at)
            if row is None:
                continue  # the planner reports PhantomBomMissing
            found[component.code] = bom_facts(session, row, items)
            by_code.update({i.code: i for i in items.values()})
            next_level += [l.component for l in found[component.code].lines if l.component.phantom]
        pending = next_level
    return found


def _bindings(session: Session, work_order_id: int, items: dict[int, ItemFacts], *, lock: bool):
    # The location comes along so the eligibility rules' candidate facts need no query of their own.
    statement = (select(StagedLot, Lot, Location).join(Lot, Lot.id == StagedLot.lot_id)
                 .join(Location, Location.id == StagedLot.location_id)
                 .where(StagedLot.work_order_id == work_order_id).order_by(StagedLot.id))
    if lock:
        statement = statement.with_for_update(of=StagedLot)
    loaded = list(session.execute(statement))
    rows = [(binding, lot) for binding, lot, _ in loaded]
    lot_ids = {lot.id for _, lot in rows}
    missing = {lot.item_id for _, lot in rows} - set(items)
    if missing:
        items.update({i.id: item_facts(i) for i in session.scalars(select(Item).where(Item.id.in_(missing)))})
    serials = _open_serials(session, [lot for _, lot in rows if items[lot.item_id].serialized])
    factors = _lot_factors(session, lot_ids)
    bindings = tuple(Binding(
        binding_id=b.id, lot_id=lot.id, lot_number=lot.lot_number, item_code=items[lot.item_id].code,
        status=lot.status, expires_on=lot.expires_on, received_at=lot.received_at, location_id=b.location_id,
        remaining=b.remaining_quantity, lot_factors=factors.get(lot.id, ()), serials=serials.get(lot.id, frozenset()))
        for b, lot in rows if b.remaining_quantity > 0)
    return bindings, lot_ids, {b.id: b for b, _ in rows}, tuple(row for _, *rest in loaded for row in rest)


def _open_serials(session: Session, lots: list[Lot]) -> dict[int, frozenset[str]]:
    if not lots:
        return {}
    grouped = defaultdict(set)
    for serial in session.scalars(select(Serial).where(Serial.lot_id.in_([l.id for l in lots]),
                                                       Serial.consumed_by_entry_id.is_(None))):
        grouped[serial.lot_id].add(serial.serial)
    return {lot_id: frozenset(values) for lot_id, values in grouped.items()}


def _lot_factors(session: Session, lot_ids: set[int]) -> dict[int, tuple[usage.LotFactor, ...]]:
    grouped = defaultdict(list)
    if lot_ids:
        for row in session.scalars(select(UomConversion).where(UomConversion.lot_id.in_(lot_ids))):
            grouped[row.lot_id].append(usage.LotFactor(row.from_uom, row.to_uom, row.factor))
    return {lot_id: tuple(values) for lot_id, values in grouped.items()}


def _conversions(session: Session, items: dict[int, ItemFacts], lot_ids: set[int], at: datetime):
    rows = conversions_in_force(session, item_ids=set(items), at=at)
    return planner_conversions(rows, {item_id: item.code for item_id, item in items.items()})


def _posted_by_operation(session: Session, work_order_id: int) -> dict[int, OperationTotals]:
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for seq, good, scrap in session.execute(select(Trigger.operation_seq, Trigger.good_quantity, Trigger.scrap_quantity)
                                            .where(Trigger.work_order_id == work_order_id, Trigger.outcome == TriggerOutcome.POSTED,
                                                   Trigger.reversed.is_(False))):
        totals[seq][0] += good
        totals[seq][1] += scrap
    return {seq: OperationTotals(good=g, scrap=s) for seq, (g, s) in totals.items()}


def _prior_postings(session: Session, work_order_id: int) -> tuple[usage.PriorPosting, ...]:
    """Non-reversed issues of this order, one total per line, component and kind of posting, so
    planning stays linear in BOM lines however many triggers the order has posted."""
    reversal = aliased(LedgerEntry)
    component, primary = aliased(Item), aliased(Item)
    by_lot_factor = LedgerEntry.line_quantity.is_not(None)
    keys = (LedgerEntry.bom_line_no, component.code, primary.code, by_lot_factor)
    exact_sums = session.get_bind().dialect.name == "postgresql"  # NUMERIC sums exactly; SQLite's SUM would be a float
    columns = (func.sum(LedgerEntry.quantity), func.sum(LedgerEntry.line_quantity)) if exact_sums else \
        (LedgerEntry.quantity, LedgerEntry.line_quantity)
    statement = (select(*keys, *columns)
                 .join(component, component.id == LedgerEntry.item_id)
                 .outerjoin(primary, primary.id == LedgerEntry.substitutes_for_item_id)
                 .outerjoin(reversal, reversal.reverses_entry_id == LedgerEntry.id)
                 .where(LedgerEntry.work_order_id == work_order_id, LedgerEntry.kind.in_(ISSUE_KINDS),
                        reversal.id.is_(None)))
    if exact_sums:
        statement = statement.group_by(*keys)
    totals: dict[tuple, list] = {}
    for line_no, code, sub, lot_factor, quantity, line_quantity in session.execute(statement):
        total = totals.setdefault((line_no, code, sub, bool(lot_factor)), [Decimal(0), Decimal(0)])
        total[0] += Decimal(quantity)
        total[1] += Decimal(line_quantity or 0)
    return tuple(usage.PriorPosting(line_no=line_no, component_code=code, quantity=quantity, substitutes_for=sub,
                                    line_quantity=line_total if lot_factor else None)
                 for (line_no, code, sub, lot_factor), (quantity, line_total) in totals.items())
