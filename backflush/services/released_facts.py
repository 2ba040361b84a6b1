"""What never changes once a work order is released, read once per process and database.

An approved BOM version never changes (only drafts are edited: boms.update_bom_draft), items are never
edited once created, and a work order's operations are fixed when it is created, so posting reads the
explosion of a bound, non-draft BOM and an order's operations from here instead of five queries per
trigger. Phantoms are not in it — they explode through the BOM in force at posting time
(trigger_facts); neither are conversions or rule sets, which QA changes while orders run. Keyed by the
engine, so two databases in one process (tests, the bench) never share entries; bounded, oldest out first.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from backflush.core import usage
from models import Bom, BomAlternate, BomLine, Item, WorkOrderOperation

CAPACITY = 1024  # BOM versions, and work orders' operations, per database and process


@dataclass(frozen=True)
class ItemFacts:
    """What posting reads of an item (fixed once the item exists)."""

    id: int
    code: str
    base_uom: str
    precision: int
    rounding: str
    phantom: bool
    serialized: bool
    standard_cost: Decimal | None


def item_facts(item: Item) -> ItemFacts:
    if item.id is None:
        raise ValueError(f"item {item.code} was never stored")
    return ItemFacts(id=item.id, code=item.code, base_uom=item.base_uom, precision=item.precision,
                     rounding=item.rounding, phantom=item.phantom, serialized=item.serialized,
                     standard_cost=item.standard_cost)


@dataclass(frozen=True)
class OperationFacts:
    seq: int
    work_center: str | None
    input_location_id: int | None


_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine → OrderedDict[key, entry]
_lock = threading.Lock()


def _cached(session: Session, key: tuple):
    with _lock:
        return _cache.setdefault(session.get_bind(), OrderedDict()).get(key)


def _keep(session: Session, key: tuple, entry) -> None:
    with _lock:
        entries = _cache.setdefault(session.get_bind(), OrderedDict())
        entries[key] = entry
        while len(entries) > CAPACITY:
            entries.popitem(last=False)


def bound_bom(session: Session, bom_id: int) -> tuple[usage.Bom, dict[int, ItemFacts]]:
    """The BOM's explosion and the items it names (by id); the caller may extend a copy of the dict."""
    found = _cached(session, ("bom", bom_id))
    if found is not None:
        return found
    row = session.get(Bom, bom_id)
    if row is None:  # a work order's foreign key guarantees it
        raise LookupError(f"BOM {bom_id} is missing")
    items: dict[int, ItemFacts] = {}
    explosion = bom_facts(session, row, items)
    if row.status != "DRAFT":
        _keep(session, ("bom", bom_id), (explosion, items))
    return explosion, items


def operations(session: Session, work_order_id: int) -> tuple[OperationFacts, ...]:
    """A work order's operations in sequence (written when the order is created, never after)."""
    found = _cached(session, ("operations", work_order_id))
    if found is None:
        found = tuple(OperationFacts(op.seq, op.work_center, op.input_location_id) for op in session.scalars(
            select(WorkOrderOperation).where(col(WorkOrderOperation.work_order_id) == work_order_id)
            .order_by(col(WorkOrderOperation.seq))))
        if found:
            _keep(session, ("operations", work_order_id), found)
    return found


def clear() -> None:
    with _lock:
        _cache.clear()


def bom_facts(session: Session, bom: Bom, items: dict[int, ItemFacts]) -> usage.Bom:
    """One BOM level: its lines, their alternates and the items they name (added to `items`)."""
    lines = list(session.scalars(select(BomLine).where(col(BomLine.bom_id) == bom.id)
                                 .order_by(col(BomLine.line_no))))
    alternates: defaultdict[int | None, list[BomAlternate]] = defaultdict(list)
    for alt in session.scalars(select(BomAlternate).where(col(BomAlternate.bom_line_id).in_([l.id for l in lines]))
                               .order_by(col(BomAlternate.priority), col(BomAlternate.id))):
        alternates[alt.bom_line_id].append(alt)
    wanted = {l.component_id for l in lines} | {a.component_id for alts in alternates.values() for a in alts} | {bom.item_id}
    missing = wanted - set(items)
    if missing:
        items.update({facts.id: facts for facts in map(item_facts, session.scalars(
            select(Item).where(col(Item.id).in_(missing))))})
    return usage.Bom(item_code=items[bom.item_id].code, base_quantity=bom.base_quantity, lines=tuple(
        usage.BomLine(
            line_no=l.line_no, component=_component(items[l.component_id]), quantity=l.quantity, uom=l.uom,
            scrap_percent=l.scrap_percent, setup_scrap=l.setup_scrap, yield_percent=l.yield_percent,
            operation_seq=l.operation_seq, posting_method=l.posting_method,
            alternates=tuple(usage.Alternate(_component(items[a.component_id]), a.ratio, a.priority)
                             for a in alternates[l.id]))
        for l in lines))


def _component(item: ItemFacts) -> usage.Component:
    return usage.Component(code=item.code, base_uom=item.base_uom, precision=item.precision, rounding=item.rounding,
                           phantom=item.phantom, serialized=item.serialized)
