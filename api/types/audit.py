"""The audit trail on the wire."""
from __future__ import annotations

from datetime import datetime

import strawberry

import models


@strawberry.type
class AuditRecord:
    seq: int
    at: datetime
    actor: str
    device_id: str | None
    action: str
    entity_type: str
    entity_id: str
    hash: str
    reason: str | None

    @classmethod
    def from_row(cls, row: models.AuditRecord) -> "AuditRecord":
        return cls(seq=row.seq, at=row.at, actor=row.actor, device_id=row.device_id, action=row.action,
                   entity_type=row.entity_type, entity_id=row.entity_id, hash=row.hash, reason=row.reason)


@strawberry.type
class AuditVerification:
    ok: bool
    checked: int
    first_broken_seq: int | None
