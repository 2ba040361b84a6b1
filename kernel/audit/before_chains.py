"""The audit trail as revisions 0001–0004 held it — one chain, numbered by the application — for the
migrations of that era that write audit rows through today's domain code (shipped rule-set defaults).

A migration runs against the schema of its own revision, not today's model, so `record` hands its rows
to the appender installed in the migration's session. Revision 0005 then places these rows at the start
of the global chain, where they verify unchanged (`chain.row_content` hashes them identically).
"""
from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kernel.audit.canonical import canonical, sha256
from kernel.audit.chain import MIGRATION_APPENDER
from models.types import UtcDateTime, utcnow

_AUDIT_0001 = sa.table(
    "auditrecord", sa.column("seq", sa.Integer), sa.column("at", UtcDateTime()), sa.column("actor", sa.String),
    sa.column("device_id", sa.String), sa.column("device_time", UtcDateTime()), sa.column("action", sa.String),
    sa.column("entity_type", sa.String), sa.column("entity_id", sa.String), sa.column("before", sa.JSON),
    sa.column("after", sa.JSON), sa.column("reason", sa.String), sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def migration_session(bind: Connection) -> Session:
    """A session whose audit rows are written in the 0001 shape."""
    return Session(bind=bind, info={MIGRATION_APPENDER: append})


def append(session: Session, *, actor: str, action: str, entity_type: str, entity_id: object,
           before: dict | None = None, after: dict | None = None, reason: str | None = None,
           device_id: str | None = None, device_time: datetime | None = None) -> None:
    session.flush()  # the rows this record is about, first
    table = _AUDIT_0001
    last = session.execute(sa.select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, "0" * 64)
    content = {"seq": seq, "at": utcnow(), "actor": actor, "device_id": device_id, "device_time": device_time,
               "action": action, "entity_type": entity_type, "entity_id": str(entity_id),
               "before": _jsonable(before), "after": _jsonable(after), "reason": reason}
    session.execute(sa.insert(table).values(**content, prev_hash=prev_hash, hash=sha256(prev_hash + canonical(content))))


def _jsonable(value: dict | None) -> dict | None:
    return None if value is None else json.loads(canonical(value))
