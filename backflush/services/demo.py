"""A small realistic plant for trying the API: one site, a tablet-bottle BOM, lots with expiries."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from auth.principal import SYSTEM, Principal
from backflush.core.vocabulary import LocationKind
from backflush.governance.change_control import settle
from backflush.services import boms, labels, masterdata, receiving, staging, work_orders
from backflush.services.commands import command
from kernel import audit
from models import Site, UomConversion
from models.stored import stored_id
from models.types import utcnow

SITE = "PLANT-1"

ITEMS = [  # code, name, base uom, precision
    masterdata.ItemSpec("API-IBU", "Ibuprofen API", "kg", 3, shelf_life_days=730, standard_cost="120.00"),
    masterdata.ItemSpec("BTL-60", "HDPE bottle 60 ml", "ea", 0, standard_cost="0.08"),
    masterdata.ItemSpec("LBL-IBU", "Label, Ibuprofen 200 mg x 30", "ea", 0, standard_cost="0.02"),
    masterdata.ItemSpec("CTN-12", "Shipper carton for 12 bottles", "ea", 0, standard_cost="0.35"),
    masterdata.ItemSpec("FG-IBU-30", "Ibuprofen 200 mg, bottle of 30", "ea", 0, standard_cost="1.90"),
]

# Per 12 bottles (baseQuantity 12): 30 tablets × 200 mg = 6 g API a bottle. Filling and labelling (op 10)
# consume the API, bottles and labels; the carton line names no operation, so the last one (op 20, Pack)
# consumes it — as any line without an operation.
BOM_LINES = [
    boms.LineSpec(1, "API-IBU", "72", "g", scrap_percent="2", scrap_source="Process validation PV-2025-014",
                  operation_seq=10),
    boms.LineSpec(2, "BTL-60", "12", "ea", operation_seq=10),
    boms.LineSpec(3, "LBL-IBU", "12", "ea", setup_scrap="5", scrap_source="Labeller set-up trial, 5 labels",
                  operation_seq=10),
    boms.LineSpec(4, "CTN-12", "1", "ea"),
]

LOTS = [  # item, lot, quantity, days to expiry
    ("API-IBU", "API-24-0117", "25.000", 400), ("API-IBU", "API-24-0211", "25.000", 520),
    ("BTL-60", "BTL-3301", "5000", None), ("LBL-IBU", "LBL-0991", "6000", None), ("CTN-12", "CTN-1202", "500", None),
]

# Staged to WO-DEMO-1 (lot, quantity), so the README's first triggers post at once: API for 120 bottles
# (0.734 kg with 2 % scrap), packaging for 240 (240 bottles, 245 labels, 20 cartons) and a little over —
# the README's second fill then blocks on the API until more is staged.
STAGED = [("API-24-0117", "1.000"), ("BTL-3301", "250"), ("LBL-0991", "260"), ("CTN-1202", "25")]


def seed_demo(sessions: sessionmaker[Session], principal: Principal = SYSTEM) -> bool:
    """Create the demo plant once; returns False when it is already there."""
    with command(sessions, principal) as session:
        if session.scalar(select(col(Site.id)).where(col(Site.code) == SITE)):
            return False
        _plant(session, principal)
        session.commit()
        return True


def _plant(session: Session, principal: Principal) -> None:
    masterdata.create_site(session, principal, code=SITE, name="Demo plant, solid dose")
    locations = {kind: masterdata.create_location(session, principal, site_code=SITE, code=f"{kind}-01", kind=kind)
                 for kind in (LocationKind.STOCK, LocationKind.WIP, LocationKind.FINISHED, LocationKind.QUARANTINE)}
    for item in ITEMS:
        masterdata.create_item(session, principal, item)
    _approved_without_signature(session, principal, UomConversion(from_uom="g", to_uom="kg", factor=Decimal("0.001"),
                                                                   version=1, status="DRAFT"), "uom_conversion")
    bom = boms.create_bom(session, principal, item_code="FG-IBU-30", base_quantity="12", lines=BOM_LINES)
    _approved_without_signature(session, principal, bom, "bom")
    lots = {}
    for item_code, lot_number, quantity, days in LOTS:
        expires = date.today() + timedelta(days=days) if days else None
        lots[lot_number] = receiving.receive_goods(session, principal, receiving.Receipt(
            item_code=item_code, lot_number=lot_number, quantity=quantity, location_id=locations[LocationKind.STOCK].id,
            expires_on=expires, supplier="Demo Supplier GmbH"))
    spec = work_orders.WorkOrderSpec(
        number="WO-DEMO-1", item_code="FG-IBU-30", quantity="1200", site_code=SITE,
        wip_location_id=locations[LocationKind.WIP].id, output_location_id=locations[LocationKind.FINISHED].id,
        operations=[work_orders.OperationSpec(10, "Fill and label", "LINE-3"), work_orders.OperationSpec(20, "Pack", "PACK-1")])
    order = work_orders.create_work_order(session, principal, spec)
    work_orders.release_work_order(session, principal, work_order_id=stored_id(order), output_lot_number="FG-24-0001")
    _stage(session, principal, order, lots=lots, stock=locations[LocationKind.STOCK])
    _approved_label(session, principal, stored_id(order))


def _stage(session: Session, principal: Principal, order, *, lots: dict, stock) -> None:
    for lot_number, quantity in STAGED:
        staging.stage_lot(session, principal, staging.StageRequest(
            work_order_id=order.id, lot_id=lots[lot_number].id, from_location_id=stock.id, quantity=quantity,
            scanned_lot_number=lot_number))


def _approved_label(session: Session, principal: Principal, work_order_id: int) -> None:
    """So the demo can pack out; a real label is approved by QA's e-signature (backflush/quality/labels.py)."""
    label = labels.create_label_version(session, principal, work_order_id=work_order_id,
                                        content="Ibuprofen 200 mg, 30 tablets. Lot {lot}, EXP {expiry}. Artwork ART-IBU-30 rev C")
    label.status, label.approved_at = "APPROVED", utcnow()
    audit.record(session, actor=principal.subject, action="label.approved", entity_type="label_version",
                 entity_id=label.id, before={"status": "DRAFT"}, after={"status": "APPROVED"},
                 reason="demo plant: approved by the system account, not by a person")


def _approved_without_signature(session: Session, principal: Principal, record, record_type: str) -> None:
    """Demo master data is approved by the system account (audited as such), not by a person."""
    session.add(record)
    session.flush()
    record.status, record.effective_from = "APPROVED", utcnow()
    settle(session, principal, record_type=record_type, family=[record], now=utcnow())
