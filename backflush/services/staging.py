"""Staging: bind a scanned lot to a work order by moving it to the order's WIP (or input) location."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from auth.principal import Principal
from backflush.services.arguments import decimal_arg, precise_arg
from backflush.services.ledger import Movement, move
from backflush.services.masterdata import location_in_sites
from backflush.services.receiving import lot_in_sites
from backflush.services.work_orders import operations_of, require_open, work_order_in_sites
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError
from models import Item, StagedLot
from models.stored import stored_id


@dataclass(frozen=True)
class StageRequest:
    work_order_id: int | None
    lot_id: int | None
    from_location_id: int | None
    quantity: object
    scanned_lot_number: str
    to_location_id: int | None = None  # default: the work order's WIP location
    device_id: str | None = None


def stage_lot(session: Session, principal: Principal, request: StageRequest) -> StagedLot:
    work_order = work_order_in_sites(session, principal, request.work_order_id, lock=True)
    require_open(work_order)
    lot = lot_in_sites(session, principal, request.lot_id)
    if lot.site_id != work_order.site_id:  # a caller of several sites must not carry stock across the wall
        raise DomainError("LOT_AT_OTHER_SITE", "the lot belongs to another site than the work order", ["input", "lotId"])
    if (request.scanned_lot_number or "").strip() != lot.lot_number:
        raise DomainError("LOT_SCAN_MISMATCH", "the scanned lot number does not match the lot: no lot scan, no "
                          "eligibility", ["input", "scannedLotNumber"])
    item = referenced_row(session, Item, lot.item_id)
    quantity = precise_arg(decimal_arg(request.quantity, "quantity", positive=True), item.precision, "quantity", item.base_uom)
    source = location_in_sites(session, principal, request.from_location_id, "fromLocationId")
    if source.site_id != work_order.site_id:
        raise DomainError("LOCATION_AT_OTHER_SITE", "the bin belongs to another site than the work order",
                          ["input", "fromLocationId"])
    target_id = _staging_target(session, principal, work_order, request.to_location_id)
    if source.id == target_id:
        raise DomainError("SAME_LOCATION", "the lot is already at the staging location", ["input", "fromLocationId"])
    binding = StagedLot(work_order_id=stored_id(work_order), lot_id=stored_id(lot), location_id=target_id,
                        staged_quantity=quantity, remaining_quantity=quantity)
    session.add(binding)
    session.flush()
    move(session, Movement(kind="STAGE", lot_id=stored_id(lot), item_id=stored_id(item), site_id=work_order.site_id, quantity=quantity,
                           uom=item.base_uom, from_location_id=source.id, to_location_id=target_id),
         actor=principal.subject, device_id=request.device_id, work_order_id=work_order.id, staged_lot_id=binding.id)
    audit.record(session, actor=principal.subject, action="lot.staged", entity_type="staged_lot", entity_id=binding.id,
                 device_id=request.device_id, after={"work_order": work_order.number, "lot": lot.lot_number,
                                                     "quantity": quantity, "location_id": target_id})
    return binding


def _staging_target(session: Session, principal: Principal, work_order, to_location_id: int | None) -> int:
    if to_location_id is None:
        return work_order.wip_location_id
    allowed = {work_order.wip_location_id} | {op.input_location_id for op in operations_of(session, work_order.id)}
    location = location_in_sites(session, principal, to_location_id, "toLocationId")
    if location.id not in allowed:
        raise DomainError("NOT_A_STAGING_LOCATION", "stage to the work order's WIP location or an operation's "
                          "input location", ["input", "toLocationId"])
    return stored_id(location)
