"""Goods receipt (lot and serial capture into a STOCK bin) and lot status changes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core import usage
from backflush.core.vocabulary import LocationKind, LotStatus
from backflush.governance import lot_disposition
from backflush.governance.signatures import SignatureRequest, sign
from backflush.quality.gates import require_no_open_ncmr
from backflush.services.arguments import choice_arg, decimal_arg, precise_arg, text_arg
from backflush.services.conversions import conversions_in_force, planner_conversions
from backflush.services.ledger import Movement, move
from backflush.services.masterdata import item_by_code, location_in_sites
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError, NotFound
from kernel.input_rules import expiry_refusal
from models import Item, Lot, Serial, Site, UomConversion
from models.stored import stored_id
from models.types import utcnow

LOT_STATUSES = frozenset(lot_disposition.LOT_STATUSES)
RECEIVABLE_KINDS = frozenset({LocationKind.STOCK, LocationKind.QUARANTINE})


@dataclass(frozen=True)
class LotConversionSpec:
    from_uom: str
    to_uom: str
    factor: object


@dataclass(frozen=True)
class Receipt:
    item_code: str
    lot_number: str
    quantity: object
    location_id: int | None
    uom: str | None = None
    expires_on: date | None = None
    supplier: str | None = None
    serials: list[str] = field(default_factory=list)
    conversions: list[LotConversionSpec] = field(default_factory=list)
    status: str = LotStatus.RELEASED
    device_id: str | None = None


def receive_goods(session: Session, principal: Principal, receipt: Receipt) -> Lot:
    item = item_by_code(session, receipt.item_code)
    location = location_in_sites(session, principal, receipt.location_id, "locationId")
    if location.kind not in RECEIVABLE_KINDS:
        raise DomainError("LOCATION_NOT_RECEIVABLE", f"goods are received into a STOCK bin, not {location.kind}",
                          ["input", "locationId"])
    quantity = decimal_arg(receipt.quantity, "quantity", positive=True)
    if receipt.expires_on is not None and (refused := expiry_refusal(receipt.expires_on, utcnow().date(),
                                                                     ["input", "expiresOn"])):
        raise refused
    lot = _find_or_create_lot(session, item, location.site_id, receipt)
    lot_factors = _record_lot_conversions(session, item, lot, receipt.conversions)
    base_quantity = _to_base(session, item, lot_factors, quantity, receipt.uom or item.base_uom)
    base_quantity = precise_arg(base_quantity, item.precision, "quantity", item.base_uom)
    _capture_serials(session, item, lot, receipt.serials, base_quantity)
    move(session, Movement(kind="RECEIPT", lot_id=stored_id(lot), item_id=stored_id(item), site_id=location.site_id,
                           quantity=base_quantity, uom=item.base_uom, to_location_id=location.id),
         actor=principal.subject, device_id=receipt.device_id,
         cost=None if item.standard_cost is None else base_quantity * item.standard_cost)
    audit.record(session, actor=principal.subject, action="lot.received", entity_type="lot", entity_id=lot.id,
                 device_id=receipt.device_id, after={"quantity": base_quantity, "uom": item.base_uom,
                                                     "location_id": location.id, "lot_number": lot.lot_number})
    return lot


def _find_or_create_lot(session: Session, item: Item, site_id: int, receipt: Receipt) -> Lot:
    lot_number = text_arg(receipt.lot_number, "lotNumber", max_length=80)
    lot = session.scalar(select(Lot).where(col(Lot.item_id) == item.id, col(Lot.lot_number) == lot_number))
    if lot is not None:
        if lot.site_id != site_id:
            raise DomainError("LOT_AT_OTHER_SITE", f"lot {lot_number} belongs to another site", ["input", "lotNumber"])
        return lot
    received_at = utcnow()
    expires_on = receipt.expires_on
    if expires_on is None and item.shelf_life_days:
        expires_on = (received_at + timedelta(days=item.shelf_life_days)).date()
    lot = Lot(item_id=stored_id(item), site_id=site_id, lot_number=lot_number, received_at=received_at,
              expires_on=expires_on, supplier=receipt.supplier,
              status=choice_arg(receipt.status, "status", LOT_STATUSES))
    session.add(lot)
    session.flush()
    return lot


def _record_lot_conversions(session: Session, item: Item, lot: Lot, specs: list[LotConversionSpec]) -> list[UomConversion]:
    rows = []
    for spec in specs:
        row = UomConversion(item_id=item.id, lot_id=lot.id, from_uom=text_arg(spec.from_uom, "fromUom"),
                            to_uom=text_arg(spec.to_uom, "toUom"), status="APPROVED", effective_from=utcnow(),
                            factor=decimal_arg(spec.factor, "factor", positive=True), density_source="measured at receipt")
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def _to_base(session: Session, item: Item, lot_rows: list[UomConversion], quantity, uom: str):
    if uom == item.base_uom:
        return quantity
    governed = planner_conversions(conversions_in_force(session, item_ids={stored_id(item)}), {stored_id(item): item.code})
    measured = tuple(usage.LotFactor(r.from_uom, r.to_uom, r.factor) for r in lot_rows)
    try:
        return usage.convert(quantity, item_code=item.code, from_uom=uom, to_uom=item.base_uom,
                             conversions=governed, lot_factors=measured)
    except usage.MissingConversion:
        raise DomainError("MISSING_UOM_CONVERSION", f"no conversion {uom} → {item.base_uom} for {item.code}",
                          ["input", "uom"]) from None


def _capture_serials(session: Session, item: Item, lot: Lot, serials: list[str], quantity) -> None:
    if not item.serialized:
        if serials:
            raise DomainError("NOT_SERIALIZED", f"{item.code} is not serialized", ["input", "serials"])
        return
    if len(set(serials)) != len(serials) or len(serials) != quantity:
        raise DomainError("SERIAL_COUNT_MISMATCH", "a serialized receipt lists one distinct serial per unit",
                          ["input", "serials"])
    existing = set(session.scalars(select(col(Serial.serial)).where(col(Serial.lot_id) == lot.id, col(Serial.serial).in_(serials))))
    if existing:
        raise DomainError("DUPLICATE_SERIAL", f"serials already received: {', '.join(sorted(existing))}", ["input", "serials"])
    session.add_all(Serial(lot_id=stored_id(lot), serial=s) for s in serials)
    session.flush()


def lot_in_sites(session: Session, principal: Principal, lot_id: int | None, field_name: str = "lotId", lock: bool = False) -> Lot:
    query = select(Lot).where(col(Lot.id) == lot_id)
    lot = session.scalar(query.with_for_update() if lock else query) if lot_id else None
    if lot is None or not principal.sees_site(referenced_row(session, Site, lot.site_id).code):
        raise NotFound("lot", ["input", field_name])
    return lot


def set_lot_status(session: Session, principal: Principal, *, lot_id: int, status: str, reason: str,
                   signature: SignatureRequest | None) -> Lot:
    """Move a lot along `lot_disposition.TRANSITIONS`: QA signs every way into RELEASED and out of REJECTED."""
    lot = lot_in_sites(session, principal, lot_id, lock=True)
    choice_arg(status, "status", LOT_STATUSES)
    reason = text_arg(reason, "reason", max_length=500, multiline=True)
    require_no_open_ncmr(session, lot)
    transition = lot_disposition.authorize(lot.status, status, principal_kind=principal.kind, roles=principal.roles,
                                           meaning=signature.meaning if signature else None)
    before = {"status": lot.status}
    if signature is not None:
        sign(session, principal=principal, request=signature, record_type="lot", record_id=stored_id(lot),
             content={"lot_id": lot.id, "lot_number": lot.lot_number, "from": lot.status, "to": status,
                      "reason": reason, "meaning": transition.meaning})
    lot.status = status
    audit.record(session, actor=principal.subject, action="lot.status_changed", entity_type="lot", entity_id=lot.id,
                 before=before, after={"status": status}, reason=reason)
    return lot
