"""Return to stock (SPEC §4.5): residual staged quantity goes back to a STOCK bin, scanned, with a
reason code; an exposed residual goes to the site's QUARANTINE bin instead and the lot waits for QA.

Also the residual dispositions a close needs (return or scrap), so both book the same way: one ledger
row per binding drawn, bindings decremented oldest first. Locks: the work order, then the lot (when its
status changes), then the bindings by id, then the balances.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.vocabulary import LocationKind, LotStatus
from backflush.services.arguments import decimal_arg, precise_arg, text_arg
from backflush.services.ledger import Movement, lock_balances, move
from backflush.services.masterdata import location_in_sites
from backflush.services.receiving import lot_in_sites
from backflush.services.work_orders import require_open, work_order_in_sites
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError
from models import Item, Location, Lot, StagedLot, WorkOrder
from models.stored import stored_id


def return_to_stock(session: Session, principal: Principal, *, work_order_id: int | None, lot_id: int | None,
                    to_location_id: int | None, quantity, reason_code: str, scanned_lot_number: str | None,
                    exposed: bool = False, device_id: str | None = None) -> StagedLot:
    """Returns the first binding drawn from; `quantity` may span several bindings of the lot."""
    work_order = work_order_in_sites(session, principal, work_order_id, lock=True)
    require_open(work_order)
    lot = lot_in_sites(session, principal, lot_id, lock=exposed)
    require_scan(lot, scanned_lot_number)
    item = referenced_row(session, Item, lot.item_id)
    quantity = precise_arg(decimal_arg(quantity, "quantity", positive=True), item.precision, "quantity", item.base_uom)
    reason_code = text_arg(reason_code, "reasonCode", max_length=40)
    target = return_location(session, principal, work_order, to_location_id, exposed=exposed)
    draws = _draw(staged_bindings(session, stored_id(work_order), lot.id), quantity)
    lock_balances(session, [(stored_id(lot), b.location_id) for b, _ in draws] + [(stored_id(lot), stored_id(target))])
    for binding, drawn in draws:
        book_residual(session, principal, kind="RETURN", work_order=work_order, lot=lot, item=item, binding=binding,
                      quantity=drawn, reason_code=reason_code, to_location_id=target.id, device_id=device_id)
    if exposed:
        quarantine(session, principal, lot, reason_code)
    return draws[0][0]


def require_scan(lot: Lot, scanned_lot_number: str | None) -> None:
    if (scanned_lot_number or "").strip() != lot.lot_number:
        raise DomainError("LOT_SCAN_MISMATCH", "the scanned lot number does not match the lot: a return is "
                          "confirmed by scanning the lot", ["input", "scannedLotNumber"])


def return_location(session: Session, principal: Principal, work_order: WorkOrder, location_id: int | None, *,
                    exposed: bool) -> Location:
    """A STOCK bin of the order's site; for an exposed residual, a QUARANTINE bin of the site instead."""
    location = location_in_sites(session, principal, location_id, "toLocationId") if location_id else None
    if location is not None and location.site_id != work_order.site_id:
        raise DomainError("LOCATION_AT_OTHER_SITE", "the location belongs to another site", ["input", "toLocationId"])
    if exposed:
        if location is not None and location.kind == LocationKind.QUARANTINE:
            return location
        return _site_quarantine(session, work_order.site_id)
    if location is None:
        raise DomainError("REQUIRED", "toLocationId is required", ["input", "toLocationId"])
    if location.kind != LocationKind.STOCK:
        raise DomainError("WRONG_LOCATION_KIND", f"residuals return to a STOCK bin, not {location.kind}; an exposed "
                          "residual goes to QUARANTINE", ["input", "toLocationId"])
    return location


def _site_quarantine(session: Session, site_id: int) -> Location:
    location = session.scalar(select(Location).where(col(Location.site_id) == site_id,
                                                     col(Location.kind) == LocationKind.QUARANTINE)
                              .order_by(col(Location.id)).limit(1))
    if location is None:
        raise DomainError("NO_QUARANTINE_LOCATION", "the site has no QUARANTINE location for an exposed return",
                          ["input", "exposed"])
    return location


def staged_bindings(session: Session, work_order_id: int, lot_id: int | None = None) -> list[StagedLot]:
    """This order's bindings (of one lot, or all) that still hold something, oldest first, locked."""
    query = select(StagedLot).where(col(StagedLot.work_order_id) == work_order_id)
    if lot_id is not None:
        query = query.where(col(StagedLot.lot_id) == lot_id)
    bindings = session.scalars(query.order_by(col(StagedLot.id)).with_for_update())
    return [b for b in bindings if b.remaining_quantity > 0]


def _draw(bindings: list[StagedLot], quantity: Decimal) -> list[tuple[StagedLot, Decimal]]:
    available = sum((b.remaining_quantity for b in bindings), Decimal(0))
    if not bindings:
        raise DomainError("LOT_NOT_STAGED", "nothing of this lot remains staged to this work order", ["input", "lotId"])
    if available < quantity:
        raise DomainError("INSUFFICIENT_STAGED_STOCK", f"only {available:f} remains staged to this work order",
                          ["input", "quantity"])
    draws, left = [], quantity
    for binding in bindings:
        take = min(binding.remaining_quantity, left)
        if take > 0:
            draws.append((binding, take))
            left -= take
    return draws


def book_residual(session: Session, principal: Principal, *, kind: str, work_order: WorkOrder, lot: Lot, item: Item,
                  binding: StagedLot, quantity: Decimal, reason_code: str, to_location_id: int | None,
                  device_id: str | None = None) -> None:
    """Move `quantity` of a binding out of WIP (RETURN to a bin, or SCRAP to nowhere) and unbind it."""
    lock_balances(session, [(stored_id(lot), binding.location_id)]
                  + ([(stored_id(lot), to_location_id)] if to_location_id else []))
    binding.remaining_quantity = binding.remaining_quantity - quantity
    entry = move(session, Movement(kind=kind, lot_id=stored_id(lot), item_id=stored_id(item), site_id=work_order.site_id,
                                   quantity=quantity, uom=item.base_uom, from_location_id=binding.location_id,
                                   to_location_id=to_location_id),
                 actor=principal.subject, device_id=device_id, work_order_id=work_order.id, staged_lot_id=binding.id,
                 reason_code=reason_code, cost=None if item.standard_cost is None else quantity * item.standard_cost)
    audit.record(session, actor=principal.subject, action=f"lot.{'returned' if kind == 'RETURN' else 'scrapped'}",
                 entity_type="staged_lot", entity_id=binding.id, device_id=device_id, reason=reason_code,
                 after={"work_order": work_order.number, "lot": lot.lot_number, "quantity": quantity,
                        "from_location_id": binding.location_id, "to_location_id": to_location_id,
                        "ledger_entry_id": entry.id})


def quarantine(session: Session, principal: Principal, lot: Lot, reason_code: str) -> None:
    """An exposed residual puts the whole lot on QUARANTINE: QA releases it, with a signature, before reuse.
    A REJECTED lot stays REJECTED: only QA re-dispositions it (lot_disposition.TRANSITIONS)."""
    if lot.status in (LotStatus.QUARANTINE, LotStatus.REJECTED):
        return
    before = {"status": lot.status}
    lot.status = LotStatus.QUARANTINE
    audit.record(session, actor=principal.subject, action="lot.status_changed", entity_type="lot", entity_id=lot.id,
                 before=before, after={"status": LotStatus.QUARANTINE}, reason=f"exposed residual returned: {reason_code}")
