"""The audit trail on the wire."""
from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

import models
from kernel import audit


@strawberry.type(description="One row of the audit trail (SPEC §8)")
class AuditRecord:
    seq: int = strawberry.field(description="Global append number: unique, increasing in the order rows were "
                                            "appended across all chains. Not hashed: `siteCode` and `chainSeq` "
                                            "place the row in its hash chain")
    site_code: str | None = strawberry.field(description="The site whose chain holds the row; null: the global "
                                                         "chain (users, clients, keys, master data), shown to "
                                                         "administrators only")
    chain_seq: int = strawberry.field(description="Position in its chain, 1, 2, 3 … without gaps")
    at: datetime
    actor: str
    device_id: str | None
    device_time: datetime | None
    action: str
    entity_type: str
    entity_id: str
    hash: str
    prev_hash: str
    before: JSON | None = strawberry.field(description="Prior and new values (21 CFR 11.10(e)); null where the "
                                                       "action has none")
    after: JSON | None
    reason: str | None
    request_id: str | None = strawberry.field(description="The request that caused it, as sent in X-Request-ID "
                                                          "or generated")

    @classmethod
    def from_row(cls, row: models.AuditRecord, site_code: str | None) -> "AuditRecord":
        if row.seq is None:
            raise ValueError("an audit record that was never written has no seq")
        return cls(seq=row.seq, site_code=site_code, chain_seq=row.chain_seq, at=row.at, actor=row.actor,
                   device_id=row.device_id, device_time=row.device_time, action=row.action,
                   entity_type=row.entity_type, entity_id=row.entity_id, hash=row.hash, prev_hash=row.prev_hash,
                   before=_json(row.before), after=_json(row.after), reason=row.reason, request_id=row.request_id)


def _json(value: dict | None) -> JSON | None:
    return None if value is None else JSON(value)


# The domain's own enum, named for the wire: one spelling of each break kind.
# (strawberry.enum registers the class itself; the name stays the class, as type checkers see it)
strawberry.enum(audit.BreakKind, name="AuditBreakKind", description=(
    "MODIFIED: a row's content no longer gives its hash; BROKEN_LINK: its prev_hash is not the previous row's "
    "hash; MISSING: positions with no row; TRUNCATED: a signed head lies beyond the chain's end; "
    "CHECKPOINT_MISMATCH: the row at a signed head's position has another hash (the chain was recomputed); "
    "CHECKPOINT_INVALID: a checkpoint whose signature does not verify"))
AuditBreakKind = audit.BreakKind


@strawberry.type
class AuditBreak:
    kind: AuditBreakKind
    site_code: str | None = strawberry.field(description="null: the global chain")
    chain_seq: int | None
    seq: int | None = strawberry.field(description="Global seq of the row concerned, when a row is there")
    detail: str


@strawberry.type(description="The whole trail verified: every chain, every row, every signed checkpoint")
class AuditVerification:
    ok: bool
    checked: int = strawberry.field(description="Rows examined: every row of every chain")
    first_broken_seq: int | None = strawberry.field(description="Global seq of the earliest-appended broken row; "
                                                                "null when only positions or checkpoints break")
    breaks: list[AuditBreak] = strawberry.field(description="The breaks in chains you may read (at most 1000)")
    break_count: int = strawberry.field(description="Every break found, in all chains")
    chains: int
    checkpoints_checked: int = strawberry.field(description="Signed checkpoints compared with the trail")
    checkpoints_verifiable: bool = strawberry.field(description="False when the service holds no audit key: "
                                                                "tail truncation and re-chaining then go unseen")

    @classmethod
    def from_result(cls, result: audit.Verification) -> "AuditVerification":
        return cls(ok=result.ok, checked=result.checked, first_broken_seq=result.first_broken_seq,
                   breaks=[AuditBreak(kind=b.kind, site_code=b.site_code, chain_seq=b.chain_seq,
                                      seq=b.seq, detail=b.detail) for b in result.breaks],
                   break_count=result.break_count, chains=result.chains,
                   checkpoints_checked=result.signed_heads_checked, checkpoints_verifiable=result.signed)
