"""Write what an evaluated trigger decided: ledger rows, bindings, receipt, genealogy — or the block."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.principal import Principal
from backflush.core.allocation import Draw
from backflush.core.vocabulary import TriggerOutcome
from backflush.policies.policy import FlushPolicy
from backflush.services.deviations import open_or_attach
from backflush.services.ledger import Movement, lock_balances, move, write_quantities
from backflush.services.trigger_eval import Evaluation
from kernel import audit
from models import GenealogyEdge, Item, RuleDecision, Serial, StagedLot, Trigger, TriggerAttempt, WorkOrder
from models.types import utcnow


def book_plan(session: Session, principal: Principal, *, work_order: WorkOrder, trigger: Trigger,
              evaluation: Evaluation, before_outcome: str | None = None) -> None:
    """`before_outcome`: what the trigger was before this evaluation, when the caller already stored it
    as POSTED (a new trigger is inserted with its outcome: no second write of the row)."""
    plan, items = evaluation.plan, evaluation.facts.items_by_code
    last_operation = max(evaluation.facts.work_order.operation_seqs)
    receipt = plan.operation_seq == last_operation and trigger.good_quantity > 0
    keys = [(d.lot_id, d.location_id) for d in plan.draws]
    if receipt:
        keys.append((work_order.output_lot_id, work_order.output_location_id))
    balances = lock_balances(session, keys)
    with session.no_autoflush:  # balances and bindings change in memory, written below one statement each
        entries = [_issue(session, principal, work_order=work_order, trigger=trigger, draw=draw, items=items,
                          binding=evaluation.facts.binding_rows[draw.binding_id], balances=balances)
                   for draw in plan.draws]
        if receipt:
            _receive_output(session, principal, work_order=work_order, trigger=trigger, balances=balances,
                            product=_product(session, work_order, items))
    # One statement for the balances and one for the bindings, all rows already locked in key order.
    write_quantities(session, balances.values(), "quantity")
    write_quantities(session, [evaluation.facts.binding_rows[d.binding_id] for d in plan.draws], "remaining_quantity")
    session.flush()  # one batch of ledger rows (the receipt last); their ids link genealogy and serials
    for draw, entry in zip(plan.draws, entries, strict=True):
        session.add(GenealogyEdge(from_lot_id=draw.lot_id, to_lot_id=work_order.output_lot_id, quantity=draw.quantity,
                                  uom=draw.uom, work_order_id=work_order.id, trigger_id=trigger.id,
                                  ledger_entry_id=entry.id))
        _consume_serials(session, trigger, draw, entry.id)
    now = utcnow()
    before = {"outcome": before_outcome or trigger.outcome}
    # A posted trigger has no block reasons; those of its earlier attempts stay on the attempts.
    number = _attempt_number(session, trigger, before["outcome"])
    if before_outcome is None:
        trigger.outcome, trigger.posted_at, trigger.block_reasons = TriggerOutcome.POSTED, now, None
    _record_attempt(session, principal, trigger, number=number, at=now)
    if work_order.status == "RELEASED":
        work_order.status = "IN_PROGRESS"
    _store_decisions(session, trigger, evaluation)
    audit.record(session, actor=principal.subject, action="trigger.posted", entity_type="trigger", entity_id=trigger.id,
                 device_id=trigger.device_id, device_time=trigger.device_timestamp, before=before,
                 after={"draws": len(plan.draws), "operation_seq": plan.operation_seq,
                        "good": trigger.good_quantity, "scrap": trigger.scrap_quantity})


def _issue(session: Session, principal: Principal, *, work_order: WorkOrder, trigger: Trigger, draw: Draw,
           items: dict[str, Item], binding: StagedLot, balances: dict):
    """The ledger row (not yet flushed) and the binding and balance decrements of one draw."""
    item = items[draw.component_code]
    binding.remaining_quantity = binding.remaining_quantity - draw.quantity
    substitutes = items[draw.substitutes_for].id if draw.substitutes_for else None
    entry = move(session, Movement(kind="BACKFLUSH_ISSUE", lot_id=draw.lot_id, item_id=item.id,
                                   site_id=work_order.site_id, quantity=draw.quantity, uom=draw.uom,
                                   from_location_id=draw.location_id),
                 actor=principal.subject, balances=balances, device_id=trigger.device_id, work_order_id=work_order.id,
                 trigger_id=trigger.id, staged_lot_id=binding.id, bom_line_no=draw.line_no,
                 substitutes_for_item_id=substitutes, line_quantity=draw.line_quantity, line_uom=draw.line_uom,
                 conversion_factor=draw.factor, flush=False,
                 cost=None if item.standard_cost is None else draw.quantity * item.standard_cost)
    return entry


def _consume_serials(session: Session, trigger: Trigger, draw: Draw, entry_id: int) -> None:
    scanned = {serial for line_no, serial in trigger.serials or () if line_no == draw.line_no}
    if not scanned:
        return
    for serial in session.scalars(select(Serial).where(Serial.lot_id == draw.lot_id, Serial.serial.in_(scanned),
                                                       Serial.consumed_by_entry_id.is_(None))):
        serial.consumed_by_entry_id = entry_id


def _product(session: Session, work_order: WorkOrder, items: dict):
    """The order's product, from the order's facts (the bound BOM names it), else from the session."""
    return next((item for item in items.values() if item.id == work_order.item_id), None) or \
        session.get(Item, work_order.item_id)


def _receive_output(session: Session, principal: Principal, *, work_order: WorkOrder, trigger: Trigger,
                    balances: dict, product) -> None:
    move(session, Movement(kind="PRODUCTION_RECEIPT", lot_id=work_order.output_lot_id, item_id=product.id,
                           site_id=work_order.site_id, quantity=trigger.good_quantity, uom=product.base_uom,
                           to_location_id=work_order.output_location_id), flush=False,
         actor=principal.subject, balances=balances, device_id=trigger.device_id, work_order_id=work_order.id, trigger_id=trigger.id,
         cost=None if product.standard_cost is None else trigger.good_quantity * product.standard_cost)


def store_block(session: Session, principal: Principal, *, work_order: WorkOrder, trigger: Trigger,
                evaluation: Evaluation, policy: FlushPolicy) -> None:
    reasons = [_reason_json(r) for r in evaluation.plan.block_reasons]
    before = {"outcome": trigger.outcome}
    number = _attempt_number(session, trigger, trigger.outcome)
    trigger.outcome, trigger.block_reasons = TriggerOutcome.BLOCKED, reasons
    trigger.first_blocked_at = trigger.first_blocked_at or utcnow()
    _record_attempt(session, principal, trigger, number=number, at=utcnow())
    codes = sorted({r["code"] for r in reasons})
    blocked_flush = {"work_order_number": work_order.number, "item_code": session.get(Item, work_order.item_id).code,
                     "trigger_kind": trigger.kind, "operation_seq": trigger.operation_seq, "reason_codes": codes,
                     "reason_count": len(reasons), "device_id": trigger.device_id}
    for request in policy.deviations_for_block(blocked_flush, verdict=evaluation.verdict):
        deviation = open_or_attach(session, principal, site_id=work_order.site_id, work_order_id=work_order.id,
                                   reason_code=request.reason_code, category=request.category, severity=request.severity)
        trigger.deviation_id = trigger.deviation_id or deviation.id
    _store_decisions(session, trigger, evaluation)
    audit.record(session, actor=principal.subject, action="trigger.blocked", entity_type="trigger", entity_id=trigger.id,
                 device_id=trigger.device_id, device_time=trigger.device_timestamp, before=before,
                 after={"reasons": blocked_flush["reason_codes"]})


def _attempt_number(session: Session, trigger: Trigger, before_outcome: str) -> int:
    """A new trigger's evaluation is its first (no query on the hot path); a retry counts the earlier ones."""
    if before_outcome == "PENDING":
        return 1
    return 1 + session.scalar(select(func.count()).select_from(TriggerAttempt)
                              .where(TriggerAttempt.trigger_id == trigger.id))


def _record_attempt(session: Session, principal: Principal, trigger: Trigger, *, number: int, at) -> None:
    session.add(TriggerAttempt(trigger_id=trigger.id, number=number, outcome=trigger.outcome,
                               block_reasons=trigger.block_reasons, evaluated_at=at, actor=principal.subject))


def _reason_json(reason) -> dict:
    return {"code": reason.code, "message": reason.message, "component_code": reason.component_code,
            "required": None if reason.required is None else format(reason.required, "f"),
            "eligible": None if reason.eligible is None else format(reason.eligible, "f"),
            "line_no": reason.line_no, "uom": reason.uom}


def _store_decisions(session: Session, trigger: Trigger, evaluation: Evaluation) -> None:
    for decision in evaluation.verdict.decisions:
        if decision.rule_set_id is None:
            continue
        session.add(RuleDecision(rule_set_id=decision.rule_set_id, version=decision.version, engine=decision.engine,
                                 fired=decision.fired, input_hash=decision.input_hash, facts=decision.facts,
                                 trigger_id=trigger.id, work_order_id=trigger.work_order_id, outcome=trigger.outcome))
    evaluation.verdict.decisions.clear()  # a retry must not store the same decisions twice
    session.flush()


