"""Reversal of a whole POSTED trigger (SPEC §4.5): requested with a reason, signed as the
REVERSAL_SIGNATURE policy requires, executed in the transaction of the last required signature.

Execution appends compensating rows (kind REVERSAL, each pointing at the row it reverses) — postings
are immutable — so the trigger's lots return to exactly the locations and quantities it took them
from, its production receipt is taken back out, and its genealogy edges are kept but marked reversed.
Locks follow posting's order: the work order, then the staged bindings (by id), then the balances.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.quantity import seconds_between
from backflush.core.vocabulary import TriggerOutcome
from backflush.governance.signatures import SignatureRequest, distinct_signers, sign
from backflush.policies.reversal_policy import ReversalPolicy, SignatureRequirement, store_decisions, unmet
from backflush.policies.rules_exception_policy import RulesReversalPolicy
from backflush.reads.records import record_in_sites
from backflush.services.arguments import text_arg
from backflush.services.ledger import Movement, lock_balances, move
from backflush.services.trigger_facts import ISSUE_KINDS
from backflush.services.work_orders import operations_of, require_open, work_order_in_sites
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError, NotFound
from kernel.rows import present
from models import ESignature, GenealogyEdge, Item, LedgerEntry, Lot, Reversal, Serial, StagedLot, Trigger, WorkOrder
from models.stored import stored_id
from models.types import utcnow

PENDING, EXECUTED, REJECTED = "PENDING_SIGNATURES", "EXECUTED", "REJECTED"


def request_reversal(session: Session, principal: Principal, *, trigger_id: int | None, reason_code: str,
                     comment: str | None = None, policy: ReversalPolicy | None = None) -> Reversal:
    trigger = _in_sites(session, principal, Trigger, trigger_id, "trigger", "triggerId")
    work_order = work_order_in_sites(session, principal, trigger.work_order_id, lock=True, field_name="triggerId")
    session.refresh(trigger, with_for_update=True)
    require_open(work_order)
    _require_reversible(session, trigger)
    reason_code = text_arg(reason_code, "reasonCode", max_length=40)
    _require_output_unused(session, work_order, _receipt_of(session, trigger))
    fact = reversal_fact(session, principal, trigger=trigger, work_order=work_order, reason_code=reason_code)
    policy = policy or RulesReversalPolicy()
    policy.prepare(session, work_order=work_order, at=utcnow())
    required = policy.requirements(fact)
    reversal = Reversal(trigger_id=trigger.id, site_id=trigger.site_id, reason_code=reason_code,
                        comment=(comment or "").strip() or None, required=[r.to_json() for r in required],
                        requested_by=principal.subject)
    session.add(reversal)
    session.flush()
    store_decisions(session, policy, work_order_id=stored_id(work_order), reversal_id=reversal.id)
    audit.record(session, actor=principal.subject, action="reversal.requested", entity_type="reversal",
                 entity_id=reversal.id, after={"trigger_id": trigger.id, "reason_code": reason_code,
                                               "required": reversal.required, "value": fact["value"]},
                 reason=reversal.comment)
    if not required:  # a policy that asks for no signature lets the request itself execute
        _execute(session, principal, reversal=reversal, trigger=trigger, work_order=work_order)
    return reversal


def _require_reversible(session: Session, trigger: Trigger) -> None:
    if trigger.reversed:
        raise DomainError("ALREADY_REVERSED", "the trigger has already been reversed", ["input", "triggerId"])
    if trigger.outcome != TriggerOutcome.POSTED:
        raise DomainError("TRIGGER_NOT_POSTED", f"only a POSTED trigger can be reversed; it is {trigger.outcome}",
                          ["input", "triggerId"])
    if session.scalar(select(col(Reversal.id)).where(col(Reversal.trigger_id) == trigger.id, col(Reversal.status) == PENDING)):
        raise DomainError("REVERSAL_PENDING", "a reversal of this trigger is already awaiting signatures",
                          ["input", "triggerId"])


def reversal_fact(session: Session, principal: Principal, *, trigger: Trigger, work_order: WorkOrder,
                  reason_code: str) -> dict:
    """The `reversal` fact of SPEC §6, as the REVERSAL_SIGNATURE policy sees it."""
    issues = _issues_of(session, trigger)
    last_operation = max(op.seq for op in operations_of(session, stored_id(work_order)))
    age = seconds_between(trigger.posted_at or trigger.received_at, utcnow())
    output_lot = referenced_row(session, Lot, present(work_order.output_lot_id, "output lot of a released order"))
    return {
        "work_order_number": work_order.number, "item_code": referenced_row(session, Item, work_order.item_id).code,
        "trigger_kind": trigger.kind, "operation_seq": trigger.operation_seq,
        "is_last_operation": trigger.operation_seq == last_operation,
        "value": sum((e.cost or Decimal(0) for e in issues), Decimal(0)),
        "quantity": trigger.good_quantity + trigger.scrap_quantity,
        "output_lot_status": output_lot.status,
        "age_hours": (age / 3600).quantize(Decimal("0.01")),
        "reason_code": reason_code, "requester_roles": sorted(principal.roles),
    }


def sign_reversal(session: Session, principal: Principal, *, reversal_id: int | None,
                  signature: SignatureRequest | None) -> Reversal:
    reversal, trigger, work_order = _pending(session, principal, reversal_id)
    if signature is None:
        raise DomainError("SIGNATURE_REQUIRED", "a reversal is approved by e-signature", ["input", "signature"])
    signed = _signatures(session, reversal.id)
    if principal.subject in distinct_signers(signed):
        raise DomainError("SIGNER_ALREADY_SIGNED", "you have already signed this reversal; signers must be "
                          "distinct people", ["input", "signature"])
    required = [SignatureRequirement.from_json(r) for r in reversal.required or []]
    sign(session, principal=principal, request=signature, record_type="reversal", record_id=reversal.id,
         content=_signed_content(reversal, trigger))
    wanted = {role for r in unmet(required, _roles_by_signer(signed)) for role in r.roles}
    if not wanted & principal.roles:
        raise DomainError("SIGNER_ROLE_NOT_ALLOWED", f"this reversal still needs a signature by "
                          f"{' or '.join(sorted(wanted))}", ["input", "signature"])
    audit.record(session, actor=principal.subject, action="reversal.signed", entity_type="reversal",
                 entity_id=reversal.id, after={"signer_roles": sorted(principal.roles)})
    if not unmet(required, _roles_by_signer(_signatures(session, reversal.id))):
        _execute(session, principal, reversal=reversal, trigger=trigger, work_order=work_order)
    return reversal


def reject_reversal(session: Session, principal: Principal, *, reversal_id: int | None, reason: str) -> Reversal:
    """The requester withdraws it, or someone who could have signed it refuses it."""
    reversal, _, _ = _pending(session, principal, reversal_id)
    reason = text_arg(reason, "reason", max_length=500, multiline=True)
    may_sign = {role for r in reversal.required or [] for role in r["roles"]}
    if principal.subject != reversal.requested_by and not may_sign & principal.roles:
        raise DomainError("ROLE_NOT_ALLOWED", "only the requester or a permitted signer may reject a reversal",
                          ["input", "reversalId"])
    reversal.status, reversal.rejected_reason = REJECTED, reason
    audit.record(session, actor=principal.subject, action="reversal.rejected", entity_type="reversal",
                 entity_id=reversal.id, before={"status": PENDING}, after={"status": REJECTED}, reason=reason)
    return reversal


def _pending(session: Session, principal: Principal, reversal_id: int | None):
    reversal = _in_sites(session, principal, Reversal, reversal_id, "reversal", "reversalId")
    trigger = referenced_row(session, Trigger, reversal.trigger_id)
    work_order = work_order_in_sites(session, principal, trigger.work_order_id, lock=True, field_name="reversalId")
    session.refresh(reversal, with_for_update=True)
    if reversal.status != PENDING:
        raise DomainError("REVERSAL_NOT_PENDING", f"the reversal is {reversal.status}", ["input", "reversalId"])
    require_open(work_order)
    return reversal, trigger, work_order


def _execute(session: Session, principal: Principal, *, reversal: Reversal, trigger: Trigger,
             work_order: WorkOrder) -> None:
    session.refresh(trigger, with_for_update=True)
    issues, receipt = _issues_of(session, trigger), _receipt_of(session, trigger)
    bindings = _lock_bindings(session, {e.staged_lot_id for e in issues if e.staged_lot_id})
    keys = [(e.lot_id, present(e.from_location_id, "bin an issue drew from")) for e in issues]
    if receipt is not None:
        keys.append((receipt.lot_id, present(receipt.to_location_id, "bin a receipt went to")))
    lock_balances(session, keys)
    _require_output_unused(session, work_order, receipt)
    for entry in issues:
        _compensate(session, principal, entry, reversal, to_location_id=entry.from_location_id)
        if entry.staged_lot_id:
            binding = bindings[entry.staged_lot_id]
            binding.remaining_quantity = binding.remaining_quantity + entry.quantity
    if receipt is not None:
        _compensate(session, principal, receipt, reversal, from_location_id=receipt.to_location_id)
    for serial in session.scalars(select(Serial).where(col(Serial.consumed_by_entry_id).in_([e.id for e in issues]))):
        serial.consumed_by_entry_id = None  # the scanned units are back in stock, free to be consumed again
    for edge in session.scalars(select(GenealogyEdge).where(col(GenealogyEdge.trigger_id) == trigger.id)):
        edge.reversed = True
    trigger.reversed = True
    reversal.status, reversal.executed_at = EXECUTED, utcnow()
    audit.record(session, actor=principal.subject, action="reversal.executed", entity_type="reversal",
                 entity_id=reversal.id, before={"status": PENDING},
                 after={"status": EXECUTED, "trigger_id": trigger.id, "rows_reversed": len(issues) + bool(receipt)},
                 reason=reversal.reason_code)


def _compensate(session: Session, principal: Principal, entry: LedgerEntry, reversal: Reversal, *,
                from_location_id: int | None = None, to_location_id: int | None = None) -> LedgerEntry:
    """The mirror image of `entry`: same lot, quantity and cost, moving the other way."""
    return move(session, Movement(kind="REVERSAL", lot_id=entry.lot_id, item_id=entry.item_id, site_id=entry.site_id,
                                  quantity=entry.quantity, uom=entry.uom, from_location_id=from_location_id,
                                  to_location_id=to_location_id),
                actor=principal.subject, reverses_entry_id=entry.id, reason_code=reversal.reason_code,
                work_order_id=entry.work_order_id, trigger_id=entry.trigger_id, staged_lot_id=entry.staged_lot_id,
                bom_line_no=entry.bom_line_no, substitutes_for_item_id=entry.substitutes_for_item_id,
                line_quantity=entry.line_quantity, line_uom=entry.line_uom,
                conversion_factor=entry.conversion_factor, cost=entry.cost)


def _require_output_unused(session: Session, work_order: WorkOrder, receipt: LedgerEntry | None) -> None:
    """Taking back what went into an output lot that was used downstream would falsify its genealogy."""
    downstream = session.scalar(select(col(GenealogyEdge.id)).where(
        col(GenealogyEdge.from_lot_id) == work_order.output_lot_id, col(GenealogyEdge.reversed).is_(False)).limit(1))
    moved_on = False
    if receipt is not None:
        key = (receipt.lot_id, present(receipt.to_location_id, "bin a receipt went to"))
        moved_on = lock_balances(session, [key])[key].quantity < receipt.quantity
    if downstream is not None or moved_on:
        raise DomainError("OUTPUT_ALREADY_CONSUMED", "the output of this trigger has already been used or moved "
                          "downstream; it cannot be taken back", ["input", "triggerId"])


def _issues_of(session: Session, trigger: Trigger) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).where(col(LedgerEntry.trigger_id) == trigger.id,
                                                          col(LedgerEntry.kind).in_(ISSUE_KINDS)).order_by(col(LedgerEntry.id))))


def _receipt_of(session: Session, trigger: Trigger) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(col(LedgerEntry.trigger_id) == trigger.id,
                                                    col(LedgerEntry.kind) == "PRODUCTION_RECEIPT"))


def _lock_bindings(session: Session, ids: set[int]) -> dict[int, StagedLot]:
    query = select(StagedLot).where(col(StagedLot.id).in_(sorted(ids))).order_by(col(StagedLot.id)).with_for_update()
    return {stored_id(b): b for b in session.scalars(query)} if ids else {}


def _signatures(session: Session, reversal_id: int) -> list[ESignature]:
    return list(session.scalars(select(ESignature).where(col(ESignature.record_type) == "reversal",
                                                         col(ESignature.record_id) == reversal_id)))


def _roles_by_signer(signatures: list[ESignature]) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for s in signatures:  # the roles a signer held when signing are what their signature vouches for
        roles.setdefault(s.signer_id, set()).update(s.signer_roles or ())
    return roles


def _signed_content(reversal: Reversal, trigger: Trigger) -> dict:
    return {"reversal_id": reversal.id, "trigger_id": trigger.id, "idempotency_key": trigger.idempotency_key,
            "action": "reverse", "reason_code": reversal.reason_code, "required": reversal.required}


def _in_sites(session: Session, principal: Principal, model, pk: int | None, what: str, field_name: str):
    row = record_in_sites(session, principal, model, pk) if pk else None
    if row is None:
        raise NotFound(what, ["input", field_name])
    return row
