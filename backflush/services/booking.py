"""Write what an evaluated trigger decided: ledger rows, bindings, receipt, genealogy — or the block."""
from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.allocation import Draw
from backflush.core.vocabulary import TriggerOutcome
from backflush.policies.policy import DecisionRecord, FlushPolicy
from backflush.services.deviations import open_or_attach
from backflush.services.ledger import Movement, apply_movement, lock_balances, table_of, write_quantities
from backflush.services.released_facts import ItemFacts
from backflush.services.trigger_eval import Evaluation
from kernel import audit
from models import (
    Balance,
    GenealogyEdge,
    Item,
    LedgerEntry,
    RuleDecision,
    Serial,
    StagedLot,
    Trigger,
    TriggerAttempt,
    WorkOrder,
)
from models.types import UtcDateTime, utcnow


@dataclass(frozen=True)
class EntryRow:
    """One ledger row to insert: the movement, and what links it to its draw."""

    movement: Movement
    staged_lot_id: int | None = None
    bom_line_no: int | None = None
    substitutes_for_item_id: int | None = None
    line_quantity: Decimal | None = None
    line_uom: str | None = None
    conversion_factor: Decimal | None = None
    cost: Decimal | None = None


@dataclass(frozen=True)
class BookedRows:
    """What a posted trigger inserts besides its audit row: ledger rows (issues, then the receipt), a
    genealogy edge per issue, the rule decisions and the attempt."""

    site_id: int
    work_order_id: int
    trigger_id: int
    output_lot_id: int
    actor: str
    device_id: str | None
    at: datetime
    outcome: str
    attempt: int
    entries: list[EntryRow]
    decisions: list[DecisionRecord]


def book_plan(session: Session, principal: Principal, *, work_order: WorkOrder, trigger: Trigger,
              evaluation: Evaluation, before_outcome: str | None = None) -> None:
    """`before_outcome`: what the trigger was before this evaluation, when the caller already stored it
    as POSTED (a new trigger is inserted with its outcome: no second write of the row).

    Written set-based, whatever the BOM size (docs/performance.md): the balances locked in key order; one
    statement for the ledger rows (the receipt last), their genealogy edges, the rule decisions and the
    attempt; one for every changed balance and binding, which also takes the site's audit chain lock
    (last in the lock order); the audit row."""
    plan, items = evaluation.plan, evaluation.facts.items_by_code
    trigger_id, output_lot_id = _stored_id(trigger.id), _stored_id(work_order.output_lot_id)
    last_operation = max(evaluation.facts.work_order.operation_seqs)
    receipt = plan.operation_seq == last_operation and trigger.good_quantity > 0
    keys = [(_key(d.lot_id), _key(d.location_id)) for d in plan.draws]
    if receipt:
        keys.append((output_lot_id, _stored_id(work_order.output_location_id)))
    balances = lock_balances(session, keys)
    bindings = [evaluation.facts.binding_rows[_key(d.binding_id)] for d in plan.draws]
    entries = [_issue(principal, work_order=work_order, trigger=trigger, draw=draw, items=items, binding=binding,
                      balances=balances) for draw, binding in zip(plan.draws, bindings, strict=True)]
    if receipt:
        entries.append(_receive_output(session, work_order=work_order, trigger=trigger, balances=balances,
                                       product=_product(session, work_order, items)))
    now = utcnow()
    before = {"outcome": before_outcome or trigger.outcome}
    # A posted trigger has no block reasons; those of its earlier attempts stay on the attempts.
    number = _attempt_number(session, trigger, before["outcome"])
    if before_outcome is None:
        trigger.outcome, trigger.posted_at, trigger.block_reasons = TriggerOutcome.POSTED, now, None
    decisions = [d for d in evaluation.verdict.decisions if d.rule_set_id is not None]
    evaluation.verdict.decisions.clear()  # a retry must not store the same decisions twice
    written = BookedRows(site_id=work_order.site_id, work_order_id=_stored_id(work_order.id), trigger_id=trigger_id,
                         output_lot_id=output_lot_id, actor=principal.subject, device_id=trigger.device_id,
                         at=now, outcome=trigger.outcome, attempt=number, entries=entries, decisions=decisions)
    with session.no_autoflush:  # the balances and bindings changed in memory are written below, in one statement
        entry_ids = insert_booked_rows(session, written)
    # One statement for the balances and the bindings, all rows already locked in key order; it takes the
    # audit chain's lock too, so the audit row below is one statement.
    write_quantities(session, balances=balances.values(), bindings=bindings, chain_site_id=work_order.site_id)
    for draw, entry_id in zip(plan.draws, entry_ids, strict=False):
        _consume_serials(session, trigger, draw, entry_id)
    if work_order.status == "RELEASED":
        work_order.status = "IN_PROGRESS"
    audit.record(session, actor=principal.subject, action="trigger.posted", entity_type="trigger", entity_id=trigger_id,
                 device_id=trigger.device_id, device_time=trigger.device_timestamp, before=before,
                 after={"draws": len(plan.draws), "operation_seq": plan.operation_seq,
                        "good": trigger.good_quantity, "scrap": trigger.scrap_quantity}, chain_locked=True)


def _stored_id(value: int | None) -> int:
    """The id of a row that was flushed (or loaded): present once the database assigned it."""
    if value is None:
        raise ValueError("the row has no id: it was never flushed")
    return value


def _key(value: Hashable) -> int:
    """A draw names its binding, lot and location by the ids the order's facts were loaded with."""
    if not isinstance(value, int):
        raise TypeError(f"expected a stored id, got {value!r}")
    return value


def _issue(principal: Principal, *, work_order: WorkOrder, trigger: Trigger, draw: Draw,
           items: dict[str, ItemFacts], binding: StagedLot, balances: dict[tuple[int, int], Balance]) -> EntryRow:
    """The ledger row of one draw; the binding and balance are decremented in memory."""
    item = items[draw.component_code]
    binding.remaining_quantity = binding.remaining_quantity - draw.quantity
    substitutes = items[draw.substitutes_for].id if draw.substitutes_for else None
    movement = Movement(kind="BACKFLUSH_ISSUE", lot_id=_key(draw.lot_id), item_id=item.id, site_id=work_order.site_id,
                        quantity=draw.quantity, uom=draw.uom, from_location_id=_key(draw.location_id))
    apply_movement(balances, movement)
    return EntryRow(movement=movement, staged_lot_id=_stored_id(binding.id), bom_line_no=draw.line_no,
                    substitutes_for_item_id=substitutes, line_quantity=draw.line_quantity, line_uom=draw.line_uom,
                    conversion_factor=draw.factor,
                    cost=None if item.standard_cost is None else draw.quantity * item.standard_cost)


# PostgreSQL: one statement of fixed text (prepared once per process) whatever the number of rows. The rows
# travel as JSON documents (quantities as text, so NUMERIC keeps their scale); ledger ids are assigned in
# the rows' order, and each issue's edge is made from its ledger row.
_BOOK = text(
    "WITH entry AS (INSERT INTO ledgerentry (kind, site_id, lot_id, item_id, from_location_id, to_location_id, "
    "quantity, uom, line_quantity, line_uom, conversion_factor, cost, work_order_id, trigger_id, staged_lot_id, "
    "bom_line_no, substitutes_for_item_id, actor, device_id, created_at) "
    "SELECT r.kind, CAST(:site_id AS integer), r.lot_id, r.item_id, r.from_location_id, r.to_location_id, "
    "r.quantity, r.uom, r.line_quantity, r.line_uom, r.conversion_factor, r.cost, CAST(:work_order_id AS integer), "
    "CAST(:trigger_id AS integer), r.staged_lot_id, r.bom_line_no, r.substitutes_for_item_id, "
    "CAST(:actor AS varchar), CAST(:device_id AS varchar), :at "
    "FROM json_to_recordset(CAST(:entries AS json)) AS r(n integer, kind varchar, lot_id integer, item_id integer, "
    "from_location_id integer, to_location_id integer, quantity numeric, uom varchar, line_quantity numeric, "
    "line_uom varchar, conversion_factor numeric, cost numeric, staged_lot_id integer, bom_line_no integer, "
    "substitutes_for_item_id integer) ORDER BY r.n "
    "RETURNING id, kind, lot_id, quantity, uom), "
    "edge AS (INSERT INTO genealogyedge (from_lot_id, to_lot_id, quantity, uom, work_order_id, trigger_id, "
    "ledger_entry_id, reversed) SELECT lot_id, CAST(:output_lot_id AS integer), quantity, uom, "
    "CAST(:work_order_id AS integer), CAST(:trigger_id AS integer), id, false FROM entry "
    "WHERE kind = 'BACKFLUSH_ISSUE' ORDER BY id), "
    "decision AS (INSERT INTO ruledecision (rule_set_id, version, engine, fired, input_hash, facts, trigger_id, "
    "work_order_id, decided_at, outcome) SELECT d.rule_set_id, d.version, d.engine, d.fired, d.input_hash, d.facts, "
    "CAST(:trigger_id AS integer), CAST(:work_order_id AS integer), :at, CAST(:outcome AS varchar) "
    "FROM json_to_recordset(CAST(:decisions AS json)) AS d(n integer, rule_set_id integer, version integer, "
    "engine varchar, fired json, input_hash varchar, facts json) ORDER BY d.n), "
    "attempt AS (INSERT INTO triggerattempt (trigger_id, number, outcome, block_reasons, evaluated_at, actor) "
    "VALUES (CAST(:trigger_id AS integer), CAST(:attempt AS integer), CAST(:outcome AS varchar), CAST('null' AS json), :at, "
    "CAST(:actor AS varchar))) "
    "SELECT id FROM entry ORDER BY id"
).bindparams(bindparam("at", type_=UtcDateTime()))


_LEDGER, _EDGES = table_of(LedgerEntry), table_of(GenealogyEdge)
_DECISIONS, _ATTEMPTS = table_of(RuleDecision), table_of(TriggerAttempt)


def insert_booked_rows(session: Session, rows: BookedRows) -> list[int]:
    """Insert a posted trigger's rows; the ledger ids, in the order of `rows.entries`."""
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(_BOOK, {
            "site_id": rows.site_id, "work_order_id": rows.work_order_id, "trigger_id": rows.trigger_id,
            "output_lot_id": rows.output_lot_id, "actor": rows.actor, "device_id": rows.device_id, "at": rows.at,
            "outcome": rows.outcome, "attempt": rows.attempt,
            "entries": json.dumps([{"n": n, **_entry_values(entry)} for n, entry in enumerate(rows.entries)],
                                  default=_json_plain),
            "decisions": json.dumps([{"n": n, "rule_set_id": d.rule_set_id, "version": d.version, "engine": d.engine,
                                      "fired": d.fired, "input_hash": d.input_hash, "facts": d.facts}
                                     for n, d in enumerate(rows.decisions)])}))
    common = {"site_id": rows.site_id, "work_order_id": rows.work_order_id, "trigger_id": rows.trigger_id,
              "actor": rows.actor, "device_id": rows.device_id, "created_at": rows.at}
    ids: list[int] = []
    if rows.entries:
        ids = list(session.scalars(
            insert(_LEDGER).returning(_LEDGER.c.id, sort_by_parameter_order=True),
            [{**common, **_entry_values(entry)} for entry in rows.entries]))
    edges = [{"from_lot_id": entry.movement.lot_id, "to_lot_id": rows.output_lot_id,
              "quantity": entry.movement.quantity, "uom": entry.movement.uom, "work_order_id": rows.work_order_id,
              "trigger_id": rows.trigger_id, "ledger_entry_id": entry_id, "reversed": False}
             for entry, entry_id in zip(rows.entries, ids, strict=True) if entry.movement.kind == "BACKFLUSH_ISSUE"]
    if edges:
        session.execute(insert(_EDGES), edges)
    if rows.decisions:
        session.execute(insert(_DECISIONS), [
            {"rule_set_id": d.rule_set_id, "version": d.version, "engine": d.engine, "fired": d.fired,
             "input_hash": d.input_hash, "facts": d.facts, "trigger_id": rows.trigger_id,
             "work_order_id": rows.work_order_id, "decided_at": rows.at, "outcome": rows.outcome}
            for d in rows.decisions])
    session.execute(insert(_ATTEMPTS), [{"trigger_id": rows.trigger_id, "number": rows.attempt,
                                              "outcome": rows.outcome, "block_reasons": None,
                                              "evaluated_at": rows.at, "actor": rows.actor}])
    return ids


def _entry_values(entry: EntryRow) -> dict[str, object]:
    movement = entry.movement
    return {"kind": movement.kind, "lot_id": movement.lot_id, "item_id": movement.item_id,
            "from_location_id": movement.from_location_id, "to_location_id": movement.to_location_id,
            "quantity": movement.quantity, "uom": movement.uom, "line_quantity": entry.line_quantity,
            "line_uom": entry.line_uom, "conversion_factor": entry.conversion_factor, "cost": entry.cost,
            "staged_lot_id": entry.staged_lot_id, "bom_line_no": entry.bom_line_no,
            "substitutes_for_item_id": entry.substitutes_for_item_id}


def _json_plain(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")  # text: NUMERIC keeps the scale, as the ORM writes it
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _consume_serials(session: Session, trigger: Trigger, draw: Draw, entry_id: int) -> None:
    scanned = {serial for line_no, serial in trigger.serials or () if line_no == draw.line_no}
    if not scanned:
        return
    for serial in session.scalars(select(Serial).where(col(Serial.lot_id) == draw.lot_id, col(Serial.serial).in_(scanned),
                                                       col(Serial.consumed_by_entry_id).is_(None))):
        serial.consumed_by_entry_id = entry_id


def _product(session: Session, work_order: WorkOrder, items: dict[str, ItemFacts]) -> ItemFacts | Item:
    """The order's product, from the order's facts (the bound BOM names it), else from the session."""
    found = next((item for item in items.values() if item.id == work_order.item_id), None)
    return found if found is not None else _present(session.get(Item, work_order.item_id))


def _present(item: Item | None) -> Item:
    if item is None:  # a foreign key guarantees it
        raise LookupError("the work order's item is missing")
    return item


def _receive_output(session: Session, *, work_order: WorkOrder, trigger: Trigger,
                    balances: dict[tuple[int, int], Balance], product: ItemFacts | Item) -> EntryRow:
    movement = Movement(kind="PRODUCTION_RECEIPT", lot_id=_stored_id(work_order.output_lot_id),
                        item_id=_stored_id(product.id), site_id=work_order.site_id, quantity=trigger.good_quantity,
                        uom=product.base_uom, to_location_id=_stored_id(work_order.output_location_id))
    apply_movement(balances, movement)
    return EntryRow(movement=movement,
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
    blocked_flush = {"work_order_number": work_order.number, "item_code": _present(session.get(Item, work_order.item_id)).code,
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
    earlier = session.scalar(select(func.count()).select_from(TriggerAttempt)
                             .where(col(TriggerAttempt.trigger_id) == trigger.id))
    return 1 + (earlier or 0)


def _record_attempt(session: Session, principal: Principal, trigger: Trigger, *, number: int, at) -> None:
    session.add(TriggerAttempt(trigger_id=_stored_id(trigger.id), number=number, outcome=trigger.outcome,
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


