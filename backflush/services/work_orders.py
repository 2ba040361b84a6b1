"""Work orders: create, release (binds the BOM in force, creates the output lot), look-ups."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.vocabulary import LocationKind, LotStatus
from backflush.services.arguments import decimal_arg, text_arg
from backflush.services.boms import live_bom
from backflush.services.masterdata import item_by_code, location_in_sites, site_by_code
from kernel import audit
from kernel.errors import DomainError, NotFound
from models import Bom, Lot, Site, WorkOrder, WorkOrderOperation
from models.stored import stored_id
from models.types import utcnow

OPEN_STATUSES = frozenset({"RELEASED", "IN_PROGRESS"})
WORK_IN_PROGRESS_KINDS = frozenset({LocationKind.WIP, LocationKind.SUPERMARKET})


@dataclass(frozen=True)
class OperationSpec:
    seq: int
    name: str
    work_center: str | None = None
    input_location_id: int | None = None


@dataclass(frozen=True)
class WorkOrderSpec:
    number: str
    item_code: str
    quantity: object
    site_code: str
    wip_location_id: int | None
    output_location_id: int | None
    operations: list[OperationSpec] = field(default_factory=list)
    overproduction_tolerance_percent: object = None
    rework: bool = False  # a rework order runs the item's rework recipe on a nonconforming lot


def create_work_order(session: Session, principal: Principal, spec: WorkOrderSpec) -> WorkOrder:
    number = text_arg(spec.number, "number", max_length=60)
    if session.scalar(select(col(WorkOrder.id)).where(col(WorkOrder.number) == number)):
        raise DomainError("DUPLICATE_NUMBER", f"work order {number} exists", ["input", "number"])
    site = site_by_code(session, principal, spec.site_code)
    item = item_by_code(session, spec.item_code)
    wip = _site_location(session, principal, site, spec.wip_location_id, "wipLocationId", WORK_IN_PROGRESS_KINDS)
    output = _site_location(session, principal, site, spec.output_location_id, "outputLocationId",
                            {LocationKind.FINISHED, LocationKind.STOCK, LocationKind.WIP})
    work_order = WorkOrder(
        number=number, item_id=stored_id(item), site_id=stored_id(site), is_rework=spec.rework,
        bom_id=stored_id(bom_in_force(session, stored_id(item), rework=spec.rework)),
        wip_location_id=wip.id, output_location_id=output.id,
        quantity=decimal_arg(spec.quantity, "quantity", positive=True),
        overproduction_tolerance_percent=decimal_arg(spec.overproduction_tolerance_percent,
                                                     "overproductionTolerancePercent", non_negative=True, default=Decimal(0)),
    )
    session.add(work_order)
    session.flush()
    _add_operations(session, principal, site, work_order, spec.operations)
    audit.record(session, actor=principal.subject, action="work_order.created", entity_type="work_order",
                 entity_id=work_order.id, after={"number": number, "item": item.code, "quantity": work_order.quantity})
    return work_order


def _add_operations(session: Session, principal: Principal, site: Site, work_order: WorkOrder,
                    operations: list[OperationSpec]) -> None:
    if not operations:
        raise DomainError("OPERATIONS_REQUIRED", "a work order has at least one operation", ["input", "operations"])
    if len({op.seq for op in operations}) != len(operations):
        raise DomainError("DUPLICATE_OPERATION", "operation sequence numbers must be distinct", ["input", "operations"])
    for op in operations:
        location = None
        if op.input_location_id is not None:
            location = _site_location(session, principal, site, op.input_location_id, "inputLocationId", WORK_IN_PROGRESS_KINDS)
        session.add(WorkOrderOperation(work_order_id=stored_id(work_order), seq=op.seq, name=text_arg(op.name, "name"),
                                       work_center=op.work_center, input_location_id=location.id if location else None))
    session.flush()


def _site_location(session, principal, site, location_id, field_name, kinds):
    location = location_in_sites(session, principal, location_id, field_name)
    if location.site_id != site.id:
        raise DomainError("LOCATION_AT_OTHER_SITE", "the location belongs to another site", ["input", field_name])
    if location.kind not in kinds:
        raise DomainError("WRONG_LOCATION_KIND", f"{field_name} must be one of {', '.join(sorted(kinds))}, "
                          f"not {location.kind}", ["input", field_name])
    return location


def release_work_order(session: Session, principal: Principal, *, work_order_id: int,
                       output_lot_number: str | None) -> WorkOrder:
    work_order = work_order_in_sites(session, principal, work_order_id, lock=True)
    if work_order.status != "CREATED":
        raise DomainError("WORK_ORDER_NOT_CREATED", f"work order is {work_order.status}", ["input", "workOrderId"])
    bom = bom_in_force(session, work_order.item_id, field_name="workOrderId", rework=work_order.is_rework)
    lot_number = (output_lot_number or "").strip() or f"{work_order.number}-OUT"
    if session.scalar(select(col(Lot.id)).where(col(Lot.item_id) == work_order.item_id, col(Lot.lot_number) == lot_number)):
        raise DomainError("DUPLICATE_LOT", f"lot {lot_number} exists for this item", ["input", "outputLotNumber"])
    # Made goods wait in QUARANTINE until QA releases them.
    lot = Lot(item_id=work_order.item_id, site_id=work_order.site_id, lot_number=lot_number, status=LotStatus.QUARANTINE,
              received_at=utcnow())
    session.add(lot)
    session.flush()
    work_order.bom_id, work_order.output_lot_id = stored_id(bom), lot.id
    work_order.status, work_order.released_at = "RELEASED", utcnow()
    audit.record(session, actor=principal.subject, action="work_order.released", entity_type="work_order",
                 entity_id=work_order.id, before={"status": "CREATED"},
                 after={"status": "RELEASED", "bom_id": bom.id, "bom_version": bom.version, "output_lot": lot_number})
    return work_order


def bom_in_force(session: Session, item_id: int, field_name: str = "itemCode", *, rework: bool = False) -> Bom:
    """Creation binds the BOM in force for display; release binds again, to the one in force then."""
    bom = live_bom(session, item_id, rework=rework)
    if bom is None:
        has_draft = session.scalar(select(col(Bom.id)).where(col(Bom.item_id) == item_id, col(Bom.rework) == rework,
                                                             col(Bom.status) == "DRAFT"))
        code = "BOM_NOT_APPROVED" if has_draft else "NO_EFFECTIVE_BOM"
        raise DomainError(code, "the item has no approved BOM in force; a draft BOM cannot drive production",
                          ["input", field_name])
    return bom


def work_order_in_sites(session: Session, principal: Principal, work_order_id: int | None, *,
                        lock: bool = False, field_name: str = "workOrderId") -> WorkOrder:
    found = session.execute(_order_with_site(lock), {"id": work_order_id}).first() if work_order_id else None
    if found is None or not principal.sees_site(found.code):
        raise NotFound("work order", ["input", field_name])
    return found[0]


@functools.cache
def _order_with_site(lock: bool) -> Select[WorkOrder, str]:
    """The site's code comes with the order (one statement); only the order's row is locked. Built once:
    every trigger starts here."""
    query = select(WorkOrder, col(Site.code)).join(Site, col(Site.id) == col(WorkOrder.site_id)).where(
        col(WorkOrder.id) == bindparam("id", type_=Integer()))
    return query.with_for_update(of=WorkOrder) if lock else query


def require_open(work_order: WorkOrder) -> None:
    if work_order.status not in OPEN_STATUSES:
        raise DomainError("WORK_ORDER_NOT_OPEN", f"work order {work_order.number} is {work_order.status}",
                          ["input", "workOrderId"])


def operations_of(session: Session, work_order_id: int) -> list[WorkOrderOperation]:
    query = select(WorkOrderOperation).where(col(WorkOrderOperation.work_order_id) == work_order_id)
    return list(session.scalars(query.order_by(col(WorkOrderOperation.seq))))
