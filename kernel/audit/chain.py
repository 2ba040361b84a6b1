"""Appending to the hash-chained audit trail (SPEC §8): one row per state change, in the command's transaction.

There is one chain per site and one global chain (users, clients, signing keys, items, BOMs, UOM
conversions, rule sets without a site). A chain's appends are serialized by a lock on that chain only,
so writers of two sites never wait for each other. Each row's hash covers its chain, its place in the
chain and its content, linked to the previous row's hash: `hash = sha256(prev_hash ‖ canonical row)`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from kernel.audit.canonical import canonical, sha256
from kernel.request_context import request_id
from models import (
    AuditRecord,
    Deviation,
    LabelVersion,
    LedgerEntry,
    Location,
    Lot,
    Ncmr,
    Reversal,
    RuleSet,
    StagedLot,
    Trigger,
    WorkOrder,
)
from models.types import UtcDateTime, utcnow

GENESIS = "0" * 64
CHECKPOINTING = "kernel.audit.checkpointing"  # session.info key of the Checkpointing a service installed
MIGRATION_APPENDER = "kernel.audit.migration_appender"  # session.info key: see before_chains.py
_LOCK_CLASS = 727001  # first key of the chains' advisory locks; the second is the site id, 0 for the global chain
_REQUEST_ID_LENGTH = 200

# What a record is about decides its chain: these entity types carry the site whose chain they join.
# Any other entity type (user, item, bom, uom_conversion, oauth_client, signing_key …) is global.
_SITED_MODELS = (Lot, WorkOrder, Trigger, Reversal, Deviation, Location, LedgerEntry, RuleSet, LabelVersion, Ncmr)
_SITED: dict[str, type[SQLModel]] = {"lot": Lot, "work_order": WorkOrder, "trigger": Trigger, "reversal": Reversal, "deviation": Deviation,
          "location": Location, "ledger_entry": LedgerEntry, "rule_set": RuleSet, "label_version": LabelVersion,
          "ncmr": Ncmr}


@dataclass(frozen=True)
class Head:
    chain_seq: int
    hash: str


def chain_of(session: Session, entity_type: str, entity_id: object) -> int | None:
    """The site whose chain a record about this entity joins; None for the global chain.

    The entity was loaded or created by the command writing the record, so this is an identity-map hit.
    """
    if entity_type == "site":
        return _id(entity_id)
    if entity_type == "staged_lot":
        binding = session.get(StagedLot, _id(entity_id))
        return None if binding is None else chain_of(session, "work_order", binding.work_order_id)
    model = _SITED.get(entity_type)
    row = None if model is None else session.get(model, _id(entity_id))
    return row.site_id if isinstance(row, _SITED_MODELS) else None


def _id(entity_id: object) -> int:
    """An entity's id as recorded: an int, or its text."""
    if isinstance(entity_id, int | str):
        return int(entity_id)
    raise TypeError(f"an entity id is an int or its text, not {type(entity_id).__name__}")


def row_content(row: AuditRecord) -> dict:
    """What the hash covers. Fields added after the first release (site, request id) enter it only when
    set, so rows written before them still verify."""
    content = {
        "seq": row.chain_seq, "at": row.at, "actor": row.actor, "device_id": row.device_id,
        "device_time": row.device_time, "action": row.action, "entity_type": row.entity_type,
        "entity_id": row.entity_id, "before": row.before, "after": row.after, "reason": row.reason,
    }
    if row.site_id is not None:
        content["site_id"] = row.site_id
    if row.request_id is not None:
        content["request_id"] = row.request_id
    return content


def chain_hash(prev_hash: str, row: AuditRecord) -> str:
    return sha256(prev_hash + canonical(row_content(row)))


def record(
    session: Session, *, actor: str, action: str, entity_type: str, entity_id: object,
    before: dict | None = None, after: dict | None = None, reason: str | None = None,
    device_id: str | None = None, device_time: datetime | None = None, chain_locked: bool = False,
) -> AuditRecord:
    """Append one audit row to the chain of what it is about: the chain lock, then the row.

    `chain_locked`: the caller already took this chain's lock in an earlier statement of the transaction
    (booking rides it on its last write; see `chain_lock_cte`). On PostgreSQL the head is read and the row
    inserted and hashed by one statement (`_APPEND`); elsewhere the head is read, then the row inserted.
    """
    migrating = session.info.get(MIGRATION_APPENDER)
    if migrating is not None:
        return migrating(session, actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
                         before=before, after=after, reason=reason, device_id=device_id, device_time=device_time)
    site_id = chain_of(session, entity_type, entity_id)
    if not chain_locked:
        lock_chain(session, site_id)
    current_request = request_id.get()
    row = AuditRecord(
        site_id=site_id, chain_seq=0, at=utcnow(), actor=actor, device_id=device_id,
        device_time=device_time, action=action, entity_type=entity_type, entity_id=str(entity_id),
        before=_jsonable(before), after=_jsonable(after), reason=reason,
        request_id=current_request[:_REQUEST_ID_LENGTH] if current_request else None,
        prev_hash=GENESIS, hash="",
    )
    if session.get_bind().dialect.name == "postgresql":
        _append_in_one_statement(session, row)
    else:
        head = chain_head(session, site_id)
        row.chain_seq, row.prev_hash = head.chain_seq + 1, head.hash
        row.hash = chain_hash(row.prev_hash, row)
        session.add(row)
        session.flush()
    checkpointing = session.info.get(CHECKPOINTING)
    if checkpointing is not None:
        checkpointing.after_append(session, row)
    return row


_SEQ_SENTINEL = -727_001_727  # stands for the chain_seq PostgreSQL assigns, inside the canonical text hashed

# The chain's last row (or the genesis), the new row numbered after it and hashed over the same canonical text
# `chain_hash` builds — the seq spliced in by PostgreSQL. It must run in a statement after the one that took
# the chain's lock: a statement reads with the snapshot it started with, and the lock's previous holder
# committed its row while this transaction waited.
_APPEND = (
    "INSERT INTO auditrecord (site_id, chain_seq, at, actor, device_id, device_time, action, entity_type, entity_id, "
    "before, after, reason, request_id, prev_hash, hash) "
    "SELECT CAST(:site_id AS integer), last.chain_seq + 1, :at, CAST(:actor AS varchar), CAST(:device_id AS varchar), "
    ":device_time, CAST(:action AS varchar), CAST(:entity_type AS varchar), CAST(:entity_id AS varchar), "
    "CAST(:before AS json), CAST(:after AS json), CAST(:reason AS varchar), CAST(:request_id AS varchar), last.hash, "
    "encode(sha256(convert_to(last.hash || CAST(:prefix AS text) || (last.chain_seq + 1)::text "
    "|| CAST(:suffix AS text), 'UTF8')), 'hex') "
    "FROM (SELECT chain_seq, hash FROM auditrecord WHERE {chain} "
    "UNION ALL SELECT 0, CAST(:genesis AS varchar) ORDER BY chain_seq DESC LIMIT 1) AS last "
    "RETURNING seq, chain_seq, prev_hash, hash")
_APPEND_TO = {sited: text(_APPEND.format(chain="site_id = CAST(:site_id AS integer)" if sited else "site_id IS NULL"))
              .bindparams(bindparam("at", type_=UtcDateTime()), bindparam("device_time", type_=UtcDateTime()))
              for sited in (True, False)}  # two texts: `IS NOT DISTINCT FROM` would reach no index


def _append_in_one_statement(session: Session, row: AuditRecord) -> None:
    """Insert `row` at the head of its chain (PostgreSQL); its seq, chain_seq, prev_hash and hash come back."""
    row.chain_seq = _SEQ_SENTINEL
    prefix, sentinel, suffix = canonical(row_content(row)).partition(f'"seq":{_SEQ_SENTINEL}')
    if not sentinel or str(_SEQ_SENTINEL) in suffix:
        raise RuntimeError("the audit content's canonical text must hold the seq exactly once")
    appended = session.execute(_APPEND_TO[row.site_id is not None], {
        "site_id": row.site_id, "at": row.at, "actor": row.actor, "device_id": row.device_id,
        "device_time": row.device_time, "action": row.action, "entity_type": row.entity_type,
        "entity_id": row.entity_id, "before": _json_text(row.before), "after": _json_text(row.after),
        "reason": row.reason, "request_id": row.request_id, "prefix": prefix + '"seq":', "suffix": suffix,
        "genesis": GENESIS}).one()
    row.seq, row.chain_seq, row.prev_hash, row.hash = appended.seq, appended.chain_seq, appended.prev_hash, appended.hash


def _json_text(value: dict | None) -> str:
    """As the ORM writes a JSON column: None is JSON's null, not SQL's."""
    return "null" if value is None else canonical(value)


def _jsonable(value: dict | None) -> dict | None:
    return None if value is None else json.loads(canonical(value))


def lock_chain(session: Session, site_id: int | None) -> None:
    # A transaction-scoped advisory lock per chain: a chain's writers append one after another, in commit
    # order, while other chains go on. SQLite transactions already take the write lock up front.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:chain_class, :chain)"),
                        {"chain_class": _LOCK_CLASS, "chain": site_id or 0})


def chain_lock_cte(parameter: str) -> str:
    """`lock_chain` as a CTE named audit_chain, for a statement that runs before `record(chain_locked=True)`;
    `parameter` (":name") binds the chain: the site id, 0 for the global chain.

    PostgreSQL evaluates a plain CTE only where it is read: the statement must select from audit_chain.
    """
    return f"audit_chain AS (SELECT pg_advisory_xact_lock({_LOCK_CLASS}, CAST({parameter} AS integer)))"


def chain_head(session: Session, site_id: int | None) -> Head:
    """The last committed row of a chain (under its lock: the true head), or the genesis."""
    last = session.execute(select(col(AuditRecord.chain_seq), col(AuditRecord.hash)).where(in_chain(site_id))
                           .order_by(col(AuditRecord.chain_seq).desc()).limit(1)).first()
    return Head(last.chain_seq, last.hash) if last else Head(0, GENESIS)


def in_chain(site_id: int | None):
    return col(AuditRecord.site_id).is_(None) if site_id is None else col(AuditRecord.site_id) == site_id
