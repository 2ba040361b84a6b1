"""Read a trigger request and evaluate it against the order's facts: the plan and what policy decided.

Shared by postTrigger, retryTrigger and previewTrigger, so a preview answers exactly what a post would do.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from backflush.core.plan import (
    BlockReason,
    InvalidTrigger,
    SerialScan,
    TriggerFacts,
    TriggerPlan,
    TriggerRequest,
    WorkOrderFacts,
    plan_trigger,
)
from backflush.core.quantity import seconds_between
from backflush.core.usage import MasterDataError
from backflush.core.vocabulary import TriggerKind
from backflush.policies.policy import FlushPolicy, FlushVerdict
from backflush.quality.gates import label_block_reason
from backflush.services.arguments import choice_arg, decimal_arg, precise_arg, text_arg
from backflush.services.trigger_facts import OrderFacts, load_order_facts
from kernel.audit import canonical, sha256
from kernel.errors import DomainError
from models import Item, Trigger, WorkOrder

TRIGGER_KINDS = frozenset(TriggerKind)


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


def parse_trigger(request: TriggerInput, product: Item) -> TriggerRequest:
    """The one parse of a trigger: every later step — planner, rules, hash, retry — reads its result."""
    key = text_arg(request.idempotency_key, "idempotencyKey", max_length=200)
    kind = TriggerKind(choice_arg(request.kind, "kind", TRIGGER_KINDS))
    good = decimal_arg(request.good_quantity, "goodQuantity", non_negative=True)
    scrap = decimal_arg(request.scrap_quantity, "scrapQuantity", non_negative=True, default=Decimal(0))
    good = precise_arg(good, product.precision, "goodQuantity", product.base_uom)
    scrap = precise_arg(scrap, product.precision, "scrapQuantity", product.base_uom)
    if good + scrap == 0:
        raise DomainError("NOTHING_REPORTED", "report good or scrap units", ["input", "goodQuantity"])
    return TriggerRequest(good=good, scrap=scrap, operation_seq=request.operation_seq, key=key,
                          serials=tuple(SerialScan(line_no, serial) for line_no, serial in request.serials),
                          work_order_id=request.work_order_id, kind=kind, device_id=request.device_id,
                          device_timestamp=_aware(request.device_timestamp), handling_unit=request.handling_unit)


def _aware(device_timestamp: datetime | None) -> datetime | None:
    """A device time without a zone names no instant: its skew could not be judged."""
    if device_timestamp is None:
        return None
    if device_timestamp.tzinfo is None or device_timestamp.utcoffset() is None:
        raise DomainError("TIMEZONE_REQUIRED", "deviceTimestamp must carry a UTC offset (Z or ±hh:mm)",
                          ["input", "deviceTimestamp"])
    return device_timestamp.astimezone(UTC)


def stored_trigger(row: Trigger) -> TriggerRequest:
    """A stored trigger as the value it was parsed into, for a retry: read back, not parsed again."""
    return TriggerRequest(good=row.good_quantity, scrap=row.scrap_quantity, operation_seq=row.operation_seq,
                          serials=tuple(SerialScan(line_no, serial) for line_no, serial in row.serials or ()),
                          key=row.idempotency_key, work_order_id=row.work_order_id, kind=TriggerKind(row.kind),
                          device_id=row.device_id, device_timestamp=row.device_timestamp,
                          handling_unit=row.handling_unit)


def payload_hash(trigger: TriggerRequest) -> str:
    """What an idempotency key is bound to; a replay with other content is refused. The layout is stored
    with every trigger (and mirrored by bench/floor.py): changing it would refuse honest replays."""
    payload = {"work_order_id": trigger.work_order_id, "kind": trigger.kind, "good": trigger.good.normalize(),
               "scrap": trigger.scrap.normalize(), "operation_seq": trigger.operation_seq,
               "device_id": trigger.device_id, "device_timestamp": trigger.device_timestamp,
               "serials": sorted((scan.line_no, scan.serial) for scan in trigger.serials),
               "handling_unit": trigger.handling_unit}
    return sha256(canonical(payload))


def clock_skew(device_timestamp: datetime | None, now: datetime) -> Decimal | None:
    """Device time − server time, in seconds; None when the device sent no time."""
    return None if device_timestamp is None else seconds_between(now, device_timestamp)


def _trigger_fact(work_order: WorkOrder, facts: OrderFacts, trigger: TriggerRequest, *, skew, principal_kind) -> dict:
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


def evaluate(session: Session, *, work_order: WorkOrder, trigger: TriggerRequest, policy: FlushPolicy,
             at: datetime, lock: bool, principal_kind: str = "USER", reported_at: datetime | None = None) -> Evaluation:
    """`at` is the server time the plan is made at (expiry, rules in force); `reported_at` is when the
    trigger was received, against which the device clock is judged (a retry passes the original)."""
    facts = load_order_facts(session, work_order, at=at, lock=lock)
    policy.prepare(session, work_order=work_order, at=at)
    verdict, skew = FlushVerdict(), clock_skew(trigger.device_timestamp, reported_at or at)
    excluded = policy.excluded_bindings(facts.bindings, verdict=verdict)
    trigger_fact = _trigger_fact(work_order, facts, trigger, skew=skew, principal_kind=principal_kind)
    planner_facts = TriggerFacts(
        trigger=trigger, work_order=facts.work_order, bom=facts.bom, posted_at=at, bindings=facts.bindings,
        conversions=facts.conversions, phantom_boms=facts.phantom_boms, excluded_binding_ids=frozenset(excluded),
        clock_skew_seconds=skew, clock_skew_limit_seconds=policy.clock_skew_limit)
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
