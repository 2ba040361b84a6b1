"""postTrigger: one trigger, one transaction — every draw booked, or nothing but the blocked trigger.

Locks are taken in one order everywhere: the work order, then its staged bindings (by id), then the
balances touched (by lot, location), so concurrent triggers on shared lots cannot deadlock.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Select, String, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from auth.principal import Principal
from backflush.core.plan import TriggerRequest
from backflush.core.vocabulary import TriggerOutcome
from backflush.governance.signatures import sign
from backflush.policies.policy import FlushPolicy
from backflush.policies.rules_policy import RulesFlushPolicy
from backflush.reads.records import record_in_sites
from backflush.services.arguments import text_arg
from backflush.services.booking import book_plan, store_block
from backflush.services.commands import command
from backflush.services.released_facts import bound_bom
from backflush.services.trigger_eval import TriggerInput, evaluate, parse_trigger, payload_hash, stored_trigger
from backflush.services.work_orders import require_open, work_order_in_sites
from kernel import audit
from kernel.errors import DomainError, NotFound
from models import Item, Trigger, WorkOrder
from models.types import utcnow


@dataclass(frozen=True)
class TriggerResult:
    trigger: Trigger
    replayed: bool


def submit_trigger(sessions: sessionmaker[Session], principal: Principal, request: TriggerInput,
                   policy: FlushPolicy | None = None) -> TriggerResult:
    """Post in a transaction of its own; a lost race on the idempotency key replays the winner.

    The request is parsed once, in the first transaction; the replay compares that same value."""
    parsed: TriggerRequest | None = None
    try:
        with command(sessions, principal) as session:
            work_order = work_order_in_sites(session, principal, request.work_order_id, lock=True)
            parsed = parse_trigger(request, _product(session, work_order))
            result = post_trigger(session, principal, work_order, parsed, policy or default_policy())
            session.commit()
            return result
    except IntegrityError as conflict:
        if parsed is None or ("uq_trigger_client_key" not in str(conflict.orig)
                              and "trigger.client_id" not in str(conflict.orig)):
            raise
    with command(sessions, principal) as session:
        winner = _existing(session, principal, parsed.key)
        if winner is None:  # the conflict was this key's: its row committed first
            raise LookupError("the trigger that won the idempotency key is not visible")
        result = _replay(winner, parsed)
        session.commit()  # writes nothing; ending the transaction this way keeps the winner's row loaded
        return result


def post_trigger(session: Session, principal: Principal, work_order: WorkOrder, parsed: TriggerRequest,
                 policy: FlushPolicy) -> TriggerResult:
    """`work_order` is locked, and in the principal's sites."""
    existing = _existing(session, principal, parsed.key)
    if existing is not None:
        return _replay(existing, parsed)
    require_open(work_order)
    now = utcnow()
    evaluation = evaluate(session, work_order=work_order, trigger=parsed, policy=policy, at=now, lock=True,
                          principal_kind=_kind(principal))
    # A trigger that will post is inserted POSTED (booking says PENDING → POSTED in the audit row):
    # one write of the row instead of an INSERT and an UPDATE.
    posts = not evaluation.plan.blocked
    trigger = Trigger(
        client_id=principal.subject, idempotency_key=parsed.key, payload_hash=payload_hash(parsed),
        site_id=work_order.site_id, work_order_id=_stored_id(work_order.id), operation_seq=evaluation.plan.operation_seq,
        kind=parsed.kind, good_quantity=parsed.good, scrap_quantity=parsed.scrap, device_id=parsed.device_id,
        device_timestamp=parsed.device_timestamp, clock_skew_seconds=evaluation.skew,
        handling_unit=parsed.handling_unit, serials=[[s.line_no, s.serial] for s in parsed.serials] or None,
        received_at=now, outcome=TriggerOutcome.POSTED if posts else "PENDING", posted_at=utcnow() if posts else None,
        actor=principal.subject)
    session.add(trigger)
    session.flush()
    _write_outcome(session, principal, work_order=work_order, trigger=trigger, evaluation=evaluation, policy=policy,
                   before_outcome="PENDING" if posts else None)
    return TriggerResult(trigger=trigger, replayed=False)


def _write_outcome(session: Session, principal: Principal, *, work_order, trigger: Trigger, evaluation,
                   policy: FlushPolicy, before_outcome: str | None = None) -> None:
    if evaluation.plan.blocked:
        store_block(session, principal, work_order=work_order, trigger=trigger, evaluation=evaluation, policy=policy)
    else:
        book_plan(session, principal, work_order=work_order, trigger=trigger, evaluation=evaluation,
                  before_outcome=before_outcome)


def _product(session: Session, work_order: WorkOrder):
    """The order's product: named by its bound BOM, whose explosion this process has usually read already."""
    return bound_bom(session, work_order.bom_id)[1].get(work_order.item_id) or session.get(Item, work_order.item_id)


def _stored_id(value: int | None) -> int:
    if value is None:
        raise ValueError("the row has no id: it was never flushed")
    return value


def _kind(principal: Principal) -> str:
    return "USER" if principal.is_user else "CLIENT"


def _reporter_kind(trigger: Trigger) -> str:
    """Who reported the trigger (not who retries it), from the subject it was stored under."""
    return "USER" if trigger.client_id.startswith("user:") else "CLIENT"


def default_policy() -> FlushPolicy:
    """QA's rule sets decide; the shipped defaults are installed by migration as version 1."""
    return RulesFlushPolicy()


def _existing(session: Session, principal: Principal, key: str) -> Trigger | None:
    return session.scalar(_by_key(), {"client": principal.subject, "key": key})


@functools.cache
def _by_key() -> Select[Trigger]:
    """A client's trigger by its idempotency key; built once, every trigger asks."""
    return select(Trigger).where(col(Trigger.client_id) == bindparam("client", type_=String()),
                                 col(Trigger.idempotency_key) == bindparam("key", type_=String()))


def _replay(existing: Trigger, parsed: TriggerRequest) -> TriggerResult:
    if existing.payload_hash != payload_hash(parsed):
        raise DomainError("IDEMPOTENCY_KEY_REUSED", "this idempotency key was used for a different trigger",
                          ["input", "idempotencyKey"])
    return TriggerResult(trigger=existing, replayed=True)


def retry_trigger(session: Session, principal: Principal, *, trigger_id: int | None,
                  policy: FlushPolicy | None = None) -> TriggerResult:
    """Evaluate a BLOCKED trigger again, after correction; it posts, or stays blocked with fresh reasons."""
    trigger = _trigger_in_sites(session, principal, trigger_id)
    work_order = work_order_in_sites(session, principal, trigger.work_order_id, lock=True)
    session.refresh(trigger, with_for_update=True)
    if trigger.outcome != TriggerOutcome.BLOCKED:
        raise DomainError("TRIGGER_NOT_BLOCKED", f"the trigger is {trigger.outcome}", ["input", "triggerId"])
    require_open(work_order)
    policy = policy or default_policy()
    # The device's clock is judged against when it reported (received_at), by the planner and the rules alike.
    evaluation = evaluate(session, work_order=work_order, trigger=stored_trigger(trigger), policy=policy,
                          at=utcnow(), lock=True, reported_at=trigger.received_at,
                          principal_kind=_reporter_kind(trigger))
    _write_outcome(session, principal, work_order=work_order, trigger=trigger, evaluation=evaluation, policy=policy)
    return TriggerResult(trigger=trigger, replayed=False)


def _trigger_in_sites(session: Session, principal: Principal, trigger_id: int | None) -> Trigger:
    trigger = record_in_sites(session, principal, Trigger, trigger_id) if trigger_id else None
    if trigger is None:
        raise NotFound("trigger", ["input", "triggerId"])
    return trigger


def discard_trigger(session: Session, principal: Principal, *, trigger_id: int | None, reason_code: str,
                    signature) -> Trigger:
    trigger = _trigger_in_sites(session, principal, trigger_id)
    work_order_in_sites(session, principal, trigger.work_order_id, lock=True)
    session.refresh(trigger, with_for_update=True)
    if trigger.outcome != TriggerOutcome.BLOCKED:
        raise DomainError("TRIGGER_NOT_BLOCKED", f"only a BLOCKED trigger can be discarded; it is {trigger.outcome}",
                          ["input", "triggerId"])
    reason_code = text_arg(reason_code, "reasonCode", max_length=40)
    if signature is None:
        raise DomainError("SIGNATURE_REQUIRED", "discarding a blocked trigger needs an e-signature", ["input", "signature"])
    sign(session, principal=principal, request=signature, record_type="trigger", record_id=_stored_id(trigger.id),
         content={"trigger_id": trigger.id, "idempotency_key": trigger.idempotency_key, "action": "discard",
                  "reason_code": reason_code, "block_reasons": trigger.block_reasons})
    trigger.outcome, trigger.discarded_at, trigger.discard_reason_code = TriggerOutcome.DISCARDED, utcnow(), reason_code
    audit.record(session, actor=principal.subject, action="trigger.discarded", entity_type="trigger",
                 entity_id=trigger.id, before={"outcome": TriggerOutcome.BLOCKED}, after={"outcome": TriggerOutcome.DISCARDED}, reason=reason_code)
    return trigger


def preview_trigger(session: Session, principal: Principal, request: TriggerInput,
                    policy: FlushPolicy | None = None):
    """Exactly what post_trigger would do now — the draws or every block reason — writing nothing."""
    work_order = work_order_in_sites(session, principal, request.work_order_id)
    product = session.get(Item, work_order.item_id)
    if product is None:  # a foreign key guarantees it
        raise NotFound("item", ["input", "workOrderId"])
    parsed = parse_trigger(request, product)
    require_open(work_order)
    evaluation = evaluate(session, work_order=work_order, trigger=parsed, policy=policy or default_policy(),
                          at=utcnow(), lock=False, principal_kind=_kind(principal))
    session.rollback()
    return evaluation
