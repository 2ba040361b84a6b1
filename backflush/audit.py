"""The hash-chained audit trail (SPEC §8): one row per state change, in the command's transaction."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import AuditRecord
from models.types import utcnow

GENESIS = "0" * 64


def canonical(value) -> str:
    """Stable JSON for hashing: sorted keys, no spaces, Decimals and datetimes as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def sha256(text_value: str) -> str:
    return hashlib.sha256(text_value.encode()).hexdigest()


def _row_content(row: AuditRecord) -> dict:
    return {
        "seq": row.seq, "at": row.at, "actor": row.actor, "device_id": row.device_id,
        "device_time": row.device_time, "action": row.action, "entity_type": row.entity_type,
        "entity_id": row.entity_id, "before": row.before, "after": row.after, "reason": row.reason,
    }


def _chain_hash(prev_hash: str, row: AuditRecord) -> str:
    return sha256(prev_hash + canonical(_row_content(row)))


def record(
    session: Session, *, actor: str, action: str, entity_type: str, entity_id: object,
    before: dict | None = None, after: dict | None = None, reason: str | None = None,
    device_id: str | None = None, device_time: datetime | None = None,
) -> AuditRecord:
    """Append one audit row. Chain order must be total, so appends are serialized by a lock."""
    _lock_chain(session)
    last = session.execute(select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)).first()
    row = AuditRecord(
        seq=(last.seq + 1) if last else 1, at=utcnow(), actor=actor, device_id=device_id,
        device_time=device_time, action=action, entity_type=entity_type, entity_id=str(entity_id),
        before=_jsonable(before), after=_jsonable(after), reason=reason,
        prev_hash=last.hash if last else GENESIS, hash="",
    )
    row.hash = _chain_hash(row.prev_hash, row)
    session.add(row)
    session.flush()
    return row


def _jsonable(value: dict | None) -> dict | None:
    return None if value is None else json.loads(canonical(value))


def _lock_chain(session: Session) -> None:
    # A transaction-scoped advisory lock: concurrent writers append one after another, in commit order.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727001)"))


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_seq: int | None


def verify(session: Session, batch: int = 1000) -> Verification:
    prev_hash, checked, expected_seq = GENESIS, 0, 1
    for row in session.scalars(select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=batch)):
        if row.seq != expected_seq or row.prev_hash != prev_hash or _chain_hash(prev_hash, row) != row.hash:
            return Verification(ok=False, checked=checked, first_broken_seq=row.seq)
        prev_hash, checked, expected_seq = row.hash, checked + 1, expected_seq + 1
    return Verification(ok=True, checked=checked, first_broken_seq=None)
