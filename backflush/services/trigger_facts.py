"""Gather, in a bounded number of statements, the plain facts the pure planner needs for one order."""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CompoundSelect, Integer, Select, String, bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from backflush.core import usage
from backflush.core.allocation import Binding
from backflush.core.plan import OperationTotals, WorkOrderFacts
from backflush.core.vocabulary import TriggerOutcome
from backflush.services.boms import live_bom
from backflush.services.conversions import governed_in_force, newest_in_force, planner_conversions
from backflush.services.released_facts import ItemFacts, OperationFacts, bom_facts, bound_bom, item_facts
from backflush.services.released_facts import operations as order_operations
from models import (
    Item,
    LedgerEntry,
    Location,
    Lot,
    PostedLineTotal,
    PostedOperationTotal,
    Serial,
    StagedLot,
    Trigger,
    UomConversion,
    WorkOrder,
)

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
    """Six statements at most whatever the BOM size (docs/performance.md): the bindings (locked), the
    conversions, the posted totals; the order's operations and bound BOM come from released_facts."""
    work_order_id = _stored(work_order.id)
    operations = order_operations(session, work_order_id)
    bom, cached_items = bound_bom(session, work_order.bom_id)
    items = dict(cached_items)
    phantom_boms = _phantom_boms(session, bom, items, at)
    rows, lot_ids, binding_rows, held = _bindings(session, work_order_id, items, lock=lock)
    governed, factors = _conversions(session, items, lot_ids, at)
    bindings = _planner_bindings(session, rows, items, factors)
    posted_by_operation, prior_postings = posted_totals(session, work_order_id)
    facts = WorkOrderFacts(
        planned_quantity=work_order.quantity, operation_seqs=tuple(op.seq for op in operations),
        wip_location_id=work_order.wip_location_id, tolerance_percent=work_order.overproduction_tolerance_percent,
        input_locations={op.seq: op.input_location_id for op in operations if op.input_location_id},
        posted_by_operation=posted_by_operation, prior_postings=prior_postings,
    )
    return OrderFacts(facts, bom, phantom_boms, bindings, governed,
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


def _bindings(session: Session, work_order_id: int, items: dict[int, ItemFacts], *,
              lock: bool) -> tuple[list[tuple[StagedLot, Lot]], set[int], dict[int, StagedLot], tuple[object, ...]]:
    # The location comes along so the eligibility rules' candidate facts need no query of their own.
    statement = (select(StagedLot, Lot, Location).join(Lot, col(Lot.id) == col(StagedLot.lot_id))
                 .join(Location, col(Location.id) == col(StagedLot.location_id))
                 .where(col(StagedLot.work_order_id) == work_order_id).order_by(col(StagedLot.id)))
    if lock:
        statement = statement.with_for_update(of=StagedLot)
    loaded: list[tuple[StagedLot, Lot, Location]] = [(b, lot, place) for b, lot, place in session.execute(statement)]
    rows = [(binding, lot) for binding, lot, _ in loaded]
    lot_ids = {_stored(lot.id) for _, lot in rows}
    missing = {lot.item_id for _, lot in rows} - set(items)
    if missing:
        items.update({facts.id: facts for facts in map(item_facts, session.scalars(
            select(Item).where(col(Item.id).in_(missing))))})
    held = tuple(row for _, lot, place in loaded for row in (lot, place))
    return rows, lot_ids, {_stored(b.id): b for b, _ in rows}, held


def _planner_bindings(session: Session, rows: list[tuple[StagedLot, Lot]], items: dict[int, ItemFacts],
                      factors: dict[int, tuple[usage.LotFactor, ...]]) -> tuple[Binding, ...]:
    serials = _open_serials(session, [lot for _, lot in rows if items[lot.item_id].serialized])
    return tuple(Binding(
        binding_id=b.id, lot_id=lot.id, lot_number=lot.lot_number, item_code=items[lot.item_id].code,
        status=lot.status, expires_on=lot.expires_on, received_at=_received(lot), location_id=b.location_id,
        remaining=b.remaining_quantity, lot_factors=factors.get(_stored(lot.id), ()),
        serials=serials.get(_stored(lot.id), frozenset()))
        for b, lot in rows if b.remaining_quantity > 0)


def _received(lot: Lot) -> datetime:
    if lot.received_at is None:  # receiving and releasing an order both set it
        raise ValueError(f"lot {lot.lot_number} has no receipt time")
    return lot.received_at


def _stored(value: int | None) -> int:
    """The id of a row read from the database."""
    if value is None:
        raise ValueError("a stored row has an id")
    return value


def _open_serials(session: Session, lots: list[Lot]) -> dict[int, frozenset[str]]:
    if not lots:
        return {}
    grouped: dict[int, set[str]] = defaultdict(set)
    for serial in session.scalars(select(Serial).where(col(Serial.lot_id).in_([l.id for l in lots]),
                                                       col(Serial.consumed_by_entry_id).is_(None))):
        grouped[serial.lot_id].add(serial.serial)
    return {lot_id: frozenset(values) for lot_id, values in grouped.items()}


def _conversions(session: Session, items: dict[int, ItemFacts], lot_ids: set[int], at: datetime
                 ) -> tuple[tuple[usage.Conversion, ...], dict[int, tuple[usage.LotFactor, ...]]]:
    """The governed conversions in force for the order's items, and the bindings' lot factors: one read."""
    governed = governed_in_force(item_ids=set(items), at=at)
    statement: Select[UomConversion] | CompoundSelect[UomConversion] = governed
    if lot_ids:
        statement = union_all(governed.order_by(None), select(UomConversion).where(col(UomConversion.lot_id).in_(lot_ids)))
    found = list(session.scalars(select(UomConversion).from_statement(statement)))
    in_force = sorted((row for row in found if row.lot_id is None), key=lambda r: (r.effective_from, r.version))
    grouped: dict[int, list[usage.LotFactor]] = defaultdict(list)
    for row in found:
        if row.lot_id is not None:
            grouped[row.lot_id].append(usage.LotFactor(row.from_uom, row.to_uom, row.factor))
    codes = {item_id: item.code for item_id, item in items.items()}
    return (planner_conversions(newest_in_force(in_force), codes),
            {lot_id: tuple(values) for lot_id, values in grouped.items()})


_OPERATION, _LINE = 0, 1  # which read a row of the posted totals comes from
_reversal, _component, _primary = aliased(LedgerEntry), aliased(Item), aliased(Item)


@functools.cache
def _posted_totals_statement(exact_sums: bool) -> CompoundSelect:
    """Good and scrap posted per operation (non-reversed POSTED triggers), and non-reversed issues per line,
    component and kind of posting, added up from the rows themselves in one read of fixed text: what SQLite
    plans with, and what the sums PostgreSQL keeps are checked against. PostgreSQL sums exactly (NUMERIC);
    SQLite would sum text as floats, so there the rows come back one by one and Python sums them."""
    work_order_id = bindparam("work_order_id", type_=Integer())
    by_lot_factor = col(LedgerEntry.line_quantity).is_not(None)
    nothing = cast(null(), String())
    operations = (select(literal(_OPERATION), col(Trigger.operation_seq), nothing, nothing, literal(False),
                         *((func.sum(col(Trigger.good_quantity)), func.sum(col(Trigger.scrap_quantity))) if exact_sums
                           else (col(Trigger.good_quantity), col(Trigger.scrap_quantity))))
                  .where(col(Trigger.work_order_id) == work_order_id, col(Trigger.outcome) == TriggerOutcome.POSTED,
                         col(Trigger.reversed).is_(False)))
    keys = (col(LedgerEntry.bom_line_no), col(_component.code), col(_primary.code), by_lot_factor)
    lines = (select(literal(_LINE), *keys,
                    *((func.sum(col(LedgerEntry.quantity)), func.sum(col(LedgerEntry.line_quantity))) if exact_sums
                      else (col(LedgerEntry.quantity), col(LedgerEntry.line_quantity))))
             .join(_component, col(_component.id) == col(LedgerEntry.item_id))
             .outerjoin(_primary, col(_primary.id) == col(LedgerEntry.substitutes_for_item_id))
             .outerjoin(_reversal, col(_reversal.reverses_entry_id) == col(LedgerEntry.id))
             .where(col(LedgerEntry.work_order_id) == work_order_id, col(LedgerEntry.kind).in_(ISSUE_KINDS),
                    col(_reversal.id).is_(None)))
    if exact_sums:
        operations, lines = operations.group_by(col(Trigger.operation_seq)), lines.group_by(*keys)
    return union_all(operations, lines)


@functools.cache
def _kept_totals_statement() -> CompoundSelect:
    """The same rows as `_posted_totals_statement`, from the sums PostgreSQL keeps (models.posted_totals):
    one row per operation and per line key, however many triggers the order has posted. A line key whose
    issues were all reversed sums to zero (issues are positive) and is left out, as the ledger's read
    would leave it out."""
    work_order_id = bindparam("work_order_id", type_=Integer())
    nothing = cast(null(), String())
    operations = (select(literal(_OPERATION), col(PostedOperationTotal.operation_seq), nothing, nothing, literal(False),
                         col(PostedOperationTotal.good), col(PostedOperationTotal.scrap))
                  .where(col(PostedOperationTotal.work_order_id) == work_order_id))
    lines = (select(literal(_LINE), col(PostedLineTotal.bom_line_no), col(_component.code), col(_primary.code),
                    col(PostedLineTotal.by_lot_factor), col(PostedLineTotal.quantity), col(PostedLineTotal.line_quantity))
             .join(_component, col(_component.id) == col(PostedLineTotal.item_id))
             .outerjoin(_primary, col(_primary.id) == col(PostedLineTotal.substitutes_for_item_id))
             .where(col(PostedLineTotal.work_order_id) == work_order_id, col(PostedLineTotal.quantity) != Decimal(0)))
    return union_all(operations, lines)


def keeps_posted_totals(session: Session) -> bool:
    """Whether the database keeps the sums (PostgreSQL's triggers, migration 0013)."""
    return session.get_bind().dialect.name == "postgresql"


def posted_totals_drift(session: Session) -> list[int]:
    """Work orders whose kept sums differ from what their ledger and triggers add up to: none, ever."""
    if not keeps_posted_totals(session):
        return []
    orders = [_stored(order_id) for order_id in session.scalars(select(col(WorkOrder.id)).order_by(col(WorkOrder.id)))]
    return [order_id for order_id in orders if _comparable(posted_totals(session, order_id))
            != _comparable(posted_totals(session, order_id, from_ledger=True))]


def _line_order(item: tuple[tuple[int, str, str | None, bool], list[Decimal]]) -> tuple[int, str, str, bool]:
    line_no, code, sub, lot_factor = item[0]
    return line_no, code, sub or "", lot_factor


def _comparable(totals: tuple[dict[int, OperationTotals], tuple[usage.PriorPosting, ...]]) -> tuple:
    by_operation, prior = totals
    return (sorted((seq, t.good, t.scrap) for seq, t in by_operation.items() if t.good or t.scrap),
            prior)


def posted_totals(session: Session, work_order_id: int, *, from_ledger: bool = False
                  ) -> tuple[dict[int, OperationTotals], tuple[usage.PriorPosting, ...]]:
    """Per operation, good and scrap posted; per line key, the issues not reversed. From the kept sums
    where the database keeps them, else (or `from_ledger`) added up from the ledger and the triggers."""
    kept = keeps_posted_totals(session)
    statement = (_kept_totals_statement() if kept and not from_ledger
                 else _posted_totals_statement(kept))
    by_operation: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    by_line: dict[tuple[int, str, str | None, bool], list[Decimal]] = {}
    for source, number, code, sub, lot_factor, first, second in session.execute(statement,
                                                                               {"work_order_id": work_order_id}):
        if source == _OPERATION:
            by_operation[number][0] += Decimal(first)
            by_operation[number][1] += Decimal(second)
        else:
            if number is None:  # matches no BOM line: the planner would never read it
                continue
            total = by_line.setdefault((number, code, sub, bool(lot_factor)), [Decimal(0), Decimal(0)])
            total[0] += Decimal(first)
            total[1] += Decimal(second or 0)
    return ({seq: OperationTotals(good=g, scrap=s) for seq, (g, s) in by_operation.items()},
            tuple(usage.PriorPosting(line_no=line_no, component_code=code, quantity=quantity, substitutes_for=sub,
                                     line_quantity=line_total if lot_factor else None)
                  for (line_no, code, sub, lot_factor), (quantity, line_total) in sorted(by_line.items(), key=_line_order)))
