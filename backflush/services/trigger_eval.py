"""Read a trigger request and evaluate it against the order's facts: the plan and what policy decided.

Shared by postTrigger, retryTrigger and previewTrigger, so a preview answers exactly what a post would do.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from backflush.services.arguments import choice_arg, decimal_arg, precise_arg, text_arg
from kernel.audit import canonical, sha256
from kernel.errors import DomainError
from backflush.core.plan import (BlockReason, InvalidTrigger, SerialScan, TriggerFacts, TriggerPlan, TriggerRequest,
                            WorkOrderFacts, plan_trigger)
from backflush.policies.policy import FlushPolicy, FlushVerdict
from backflush.services.trigger_facts import OrderFacts, load_order_facts
from backflush.core.usage import MasterDataError
from backflush.quality.gates import label_block_reason
from models import Item, WorkOrder

TRIGGER_KINDS = frozenset({"OPERATION_COMPLETE", "GOOD_UNITS_DECLARED", "PACK_CONFIRMED", "HANDLING_UNIT_CLOSED"})


@dataclass(frozen=True)
class TriggerInput:
    """A trigger as the client sent it; quantities still raw."""

    idempotency_key: str
    work_order_id: int | None
    kind: str
    good_quantity: object
    scrap_quantity: object = None
    operation_seq: int | None = None
    device_id: str | None = None
    device_timestamp: datetime | None = None
    serials: tuple[tuple[int, str], ...] = ()
    handling_unit: str | None = None


@dataclass(frozen=True)
class ParsedTrigger:
    key: str
    kind: str
    good: Decimal
    scrap: Decimal
    operation_seq: int | None
    device_id: str | None
    device_timestamp: datetime | None
    serials: tuple[tuple[int, str], ...]
    handling_unit: str | None
    payload_hash: str


def parse_trigger(request: TriggerInput, product: Item) -> ParsedTrigger:
    key = text_arg(request.idempotency_key, "idempotencyKey", max_length=200)
    choice_arg(request.kind, "kind", TRIGGER_KINDS)
    good = decimal_arg(request.good_quantity, "goodQuantity", non_negative=True)
    scrap = decimal_arg(request.scrap_quantity, "scrapQuantity", non_negative=True, default=Decimal(0))
    good = precise_arg(good, product.precision, "goodQuantity", product.base_uom)
    scrap = precise_arg(scrap, product.precision, "scrapQuantity", product.base_uom)
    if good + scrap == 0:
        raise DomainError("NOTHING_REPORTED", "report good or scrap units", ["input", "goodQuantity"])
    payload = {"work_order_id": request.work_order_id, "kind": request.kind, "good": good.normalize(),
               "scrap": scrap.normalize(), "operation_seq": request.operation_seq, "device_id": request.device_id,
               "device_timestamp": request.device_timestamp, "serials": sorted(request.serials),
               "handling_unit": request.handling_unit}
    return ParsedTrigger(key, request.kind, good, scrap, request.operation_seq, request.device_id,
                         request.device_timestamp, tuple(request.serials), request.handling_unit,
                         sha256(canonical(payload)))


def clock_skew(device_timestamp: datetime | None, now: datetime) -> Decimal | None:
    if device_timestamp is None:
        return None
    delta = device_timestamp - now
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def _trigger_fact(work_order: WorkOrder, facts: OrderFacts, trigger: ParsedTrigger, *, skew, principal_kind) -> dict:
    """The `trigger` fact QA's BLOCKING rules see (docs/rules.md lists every field)."""
    last = max(op.seq for op in facts.operations)
    seq = trigger.operation_seq if trigger.operation_seq is not None else last
    center = next((op.work_center for op in facts.operations if op.seq == seq), None)
    fact = {"work_order_number": work_order.number, "item_code": facts.bom.item_code, "kind": trigger.kind,
            "operation_seq": seq, "is_last_operation": seq == last, "work_center": center,
            "good_quantity": trigger.good, "scrap_quantity": trigger.scrap, "planned_quantity": work_order.quantity,
            "device_id": trigger.device_id, "clock_skew_seconds": skew, "handling_unit": trigger.handling_unit,
            "principal_kind": principal_kind, **_operation_sequence(facts.work_order, seq, trigger.good)}
    return {key: value for key, value in fact.items() if value is not None}


def _operation_sequence(order: WorkOrderFacts, seq: int, good: Decimal) -> dict:
    """How far this operation's cumulative good runs ahead of its predecessor's (rules cannot subtract)."""
    done = order.posted_by_operation
    cumulative = (done[seq].good if seq in done else Decimal(0)) + good
    earlier = [s for s in order.operation_seqs if s < seq]
    if not earlier:
        return {"cumulative_good_quantity": cumulative}
    previous = done[max(earlier)].good if max(earlier) in done else Decimal(0)
    allowance = order.planned_quantity * order.tolerance_percent / 100
    return {"cumulative_good_quantity": cumulative, "previous_operation_good": previous,
            "good_ahead_of_previous_operation": cumulative - previous - allowance}


@dataclass
class Evaluation:
    plan: TriggerPlan
    facts: OrderFacts
    verdict: FlushVerdict = field(default_factory=FlushVerdict)
    skew: Decimal | None = None


# With the BLOCKING rule set owning the clock-skew limit, the planner's own check must never fire first.
NO_LIMIT = Decimal(10) ** 12


def evaluate(session: Session, *, work_order: WorkOrder, trigger: ParsedTrigger, policy: FlushPolicy,
             at: datetime, lock: bool, principal_kind: str = "USER", reported_at: datetime | None = None) -> Evaluation:
    """`at` is the server time the plan is made at (expiry, rules in force); `reported_at` is when the
    trigger was received, against which the device clock is judged (a retry passes the original)."""
    facts = load_order_facts(session, work_order, at=at, lock=lock)
    policy.prepare(session, work_order=work_order, at=at)
    verdict, skew = FlushVerdict(), clock_skew(trigger.device_timestamp, reported_at or at)
    excluded = policy.excluded_bindings(facts.bindings, verdict=verdict)
    trigger_fact = _trigger_fact(work_order, facts, trigger, skew=skew, principal_kind=principal_kind)
    request = TriggerRequest(good=trigger.good, scrap=trigger.scrap, operation_seq=trigger.operation_seq,
                             serials=tuple(SerialScan(line_no, serial) for line_no, serial in trigger.serials),
                             clock_skew_seconds=skew)
    planner_facts = TriggerFacts(
        trigger=request, work_order=facts.work_order, bom=facts.bom, posted_at=at, bindings=facts.bindings,
        conversions=facts.conversions, phantom_boms=facts.phantom_boms, excluded_binding_ids=frozenset(excluded),
        clock_skew_limit_seconds=NO_LIMIT if policy.clock_skew_limit is None else Decimal(policy.clock_skew_limit))
    try:
        plan = plan_trigger(planner_facts, blocking_policy=lambda requirements: policy.block_reasons(
            trigger_fact, requirements, verdict=verdict))
    except InvalidTrigger as invalid:
        raise DomainError(invalid.code, invalid.message, invalid.field) from None
    except MasterDataError as broken:  # e.g. a conversion withdrawn since approval: a prerequisite, so block
        reason = BlockReason(code=broken.code, message=broken.message)
        plan = TriggerPlan(operation_seq=trigger.operation_seq or max(facts.work_order.operation_seqs),
                           units=Decimal(0), draws=(), block_reasons=(reason,), requirements=())
    label = label_block_reason(session, work_order, trigger.kind)
    if label is not None:  # a gate no rule set can switch off
        plan = replace(plan, block_reasons=(*plan.block_reasons, label))
    return Evaluation(plan=plan, facts=facts, verdict=verdict, skew=skew)
