"""Scan issue (weigh and dispense): the actual quantity of a scanned lot, for a SCAN_ISSUE line."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.allocation import Binding
from backflush.core.vocabulary import LotStatus, PostingMethod
from backflush.policies.policy import FlushVerdict
from backflush.policies.rules_policy import RulesFlushPolicy
from backflush.quality.gates import require_no_open_ncmr
from backflush.services.arguments import decimal_arg, precise_arg
from backflush.services.ledger import Movement, lock_balances, move
from backflush.services.receiving import lot_in_sites
from backflush.services.work_orders import require_open, work_order_in_sites
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError
from kernel.rows import present
from models import BomAlternate, BomLine, GenealogyEdge, Item, LedgerEntry, Lot, StagedLot
from models.stored import stored_id
from models.types import utcnow


@dataclass(frozen=True)
class ScanIssueRequest:
    work_order_id: int | None
    line_no: int
    lot_id: int | None
    quantity: object
    scanned_lot_number: str
    uom: str | None = None
    device_id: str | None = None


def scan_issue(session: Session, principal: Principal, request: ScanIssueRequest) -> LedgerEntry:
    work_order = work_order_in_sites(session, principal, request.work_order_id, lock=True)
    require_open(work_order)
    line = session.scalar(select(BomLine).where(col(BomLine.bom_id) == work_order.bom_id,
                                                 col(BomLine.line_no) == request.line_no))
    if line is None:
        raise DomainError("UNKNOWN_LINE", f"the BOM has no line {request.line_no}", ["input", "lineNo"])
    if line.posting_method != PostingMethod.SCAN_ISSUE:
        raise DomainError("NOT_A_SCAN_ISSUE_LINE", f"line {line.line_no} is {line.posting_method}", ["input", "lineNo"])
    lot = lot_in_sites(session, principal, request.lot_id)
    if (request.scanned_lot_number or "").strip() != lot.lot_number:
        raise DomainError("LOT_SCAN_MISMATCH", "the scanned lot number does not match the lot", ["input", "scannedLotNumber"])
    item = referenced_row(session, Item, lot.item_id)
    substitutes = _substitution(session, line, item)
    reworked = work_order.is_rework and lot.item_id == work_order.item_id  # the nonconforming lot itself
    if request.uom not in (None, item.base_uom):
        raise DomainError("UOM_NOT_BASE", f"weigh {item.code} in {item.base_uom}", ["input", "uom"])
    quantity = precise_arg(decimal_arg(request.quantity, "quantity", positive=True), item.precision, "quantity", item.base_uom)
    bindings = _usable_bindings(session, work_order=work_order, lot=lot, item=item, reworked=reworked, at=utcnow())
    binding = _binding_with(bindings, quantity)
    lock_balances(session, [(stored_id(lot), binding.location_id)])
    binding.remaining_quantity = binding.remaining_quantity - quantity
    entry = move(session, Movement(kind="SCAN_ISSUE", lot_id=stored_id(lot), item_id=stored_id(item), site_id=work_order.site_id,
                                   quantity=quantity, uom=item.base_uom, from_location_id=binding.location_id),
                 actor=principal.subject, device_id=request.device_id, work_order_id=work_order.id,
                 staged_lot_id=binding.id, bom_line_no=line.line_no, substitutes_for_item_id=substitutes,
                 cost=None if item.standard_cost is None else quantity * item.standard_cost)
    session.add(GenealogyEdge(from_lot_id=stored_id(lot), to_lot_id=present(work_order.output_lot_id, "output lot of a released order"),
                              quantity=quantity, uom=item.base_uom, work_order_id=stored_id(work_order),
                              ledger_entry_id=stored_id(entry)))
    if work_order.status == "RELEASED":
        work_order.status = "IN_PROGRESS"
    audit.record(session, actor=principal.subject, action="scan_issue.posted", entity_type="ledger_entry",
                 entity_id=entry.id, device_id=request.device_id,
                 after={"work_order": work_order.number, "line_no": line.line_no, "lot": lot.lot_number, "quantity": quantity})
    return entry


def _substitution(session: Session, line: BomLine, item: Item) -> int | None:
    if item.id == line.component_id:
        return None
    alternate = session.scalar(select(BomAlternate).where(col(BomAlternate.bom_line_id) == line.id,
                                                          col(BomAlternate.component_id) == item.id))
    if alternate is None:
        raise DomainError("LOT_NOT_FOR_LINE", f"{item.code} is neither the component nor an alternate of line "
                          f"{line.line_no}", ["input", "lotId"])
    return line.component_id


def _usable_bindings(session: Session, *, work_order, lot: Lot, item: Item, reworked: bool, at) -> list[StagedLot]:
    """This lot's bindings to the order that a backflush could draw (SPEC §4.2), locked, or the broken rule.

    The nonconforming lot a rework order consumes is exempt from its status and from QA's lot rules:
    consuming it is what the rework is for. It is still staged and still within its expiry.
    """
    require_no_open_ncmr(session, lot)
    if lot.status != LotStatus.RELEASED and not reworked:
        raise DomainError("LOT_NOT_RELEASED", f"lot {lot.lot_number} is {lot.status}", ["input", "lotId"])
    if lot.expires_on is not None and lot.expires_on < at.date():
        raise DomainError("LOT_EXPIRED", f"lot {lot.lot_number} expired on {lot.expires_on}", ["input", "lotId"])
    bindings = list(session.scalars(select(StagedLot).where(col(StagedLot.work_order_id) == work_order.id,
                                                           col(StagedLot.lot_id) == lot.id).order_by(col(StagedLot.id))
                                    .with_for_update()))
    if not bindings:
        raise DomainError("LOT_NOT_STAGED", "the lot is not staged to this work order: no stage, no issue",
                          ["input", "lotId"])
    if reworked:
        return bindings
    excluded, codes = _excluded_by_qa(session, work_order=work_order, lot=lot, item=item, bindings=bindings, at=at)
    usable = [b for b in bindings if b.id not in excluded]
    if not usable:
        raise DomainError("LOT_EXCLUDED", f"lot {lot.lot_number} is excluded by QA's ELIGIBILITY rules "
                          f"({', '.join(codes)})", ["input", "lotId"])
    return usable


def _excluded_by_qa(session: Session, *, work_order, lot: Lot, item: Item, bindings: list[StagedLot], at):
    """The binding ids the ELIGIBILITY rule set in force excludes, and its codes, as a backflush would ask."""
    policy, verdict = RulesFlushPolicy(), FlushVerdict()
    policy.prepare(session, work_order=work_order, at=at)
    candidates = tuple(Binding(binding_id=b.id, lot_id=lot.id, lot_number=lot.lot_number, item_code=item.code,
                               status=lot.status, expires_on=lot.expires_on, received_at=present(lot.received_at, "receipt time of a lot"),
                               location_id=b.location_id, remaining=b.remaining_quantity) for b in bindings)
    excluded = policy.excluded_bindings(candidates, verdict=verdict)
    codes = sorted({f["params"]["code"] for d in verdict.decisions for f in d.fired if f["action"] == "exclude"})
    return excluded, codes


def _binding_with(bindings: list[StagedLot], quantity) -> StagedLot:
    """The first usable binding of the lot that still holds the quantity."""
    for binding in bindings:
        if binding.remaining_quantity >= quantity:
            return binding
    raise DomainError("INSUFFICIENT_STAGED_STOCK", "more than the staged quantity remaining", ["input", "quantity"])
