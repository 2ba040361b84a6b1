"""E-signatures, the audit trail, rule sets, decisions and deviations (SPEC §6, §7, §8)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class ESignature(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("record_type", "record_id", "signer_id", "meaning", name="uq_signature_once"),
        Index("ix_signature_record", "record_type", "record_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(max_length=40)
    record_id: int
    record_hash: str = Field(max_length=64)
    signer_id: str = Field(max_length=120)
    signer_name: str = Field(max_length=200)
    signer_roles: list | None = Field(default=None, sa_type=JSON)
    meaning: str = Field(max_length=120)
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AuditRecord(SQLModel, table=True):
    """Append-only and hash-chained, one chain per site plus one global chain (site_id NULL).

    `seq` is the global append number (assigned by the database, the order rows were written in);
    `chain_seq` is the row's place in its chain and is what the hash covers. PostgreSQL refuses
    UPDATE, DELETE and TRUNCATE on it (migration triggers) and the service role may only INSERT and SELECT.
    """

    __table_args__ = (
        UniqueConstraint("site_id", "chain_seq"),
        # NULL is distinct from NULL in a unique constraint: the global chain needs its own.
        Index("uq_auditrecord_global_chain_seq", "chain_seq", unique=True,
              sqlite_where=text("site_id IS NULL"), postgresql_where=text("site_id IS NULL")),
    )

    seq: int | None = Field(default=None, primary_key=True)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    chain_seq: int
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str = Field(max_length=120)
    device_id: str | None = Field(default=None, max_length=80)
    device_time: datetime | None = Field(default=None, sa_type=UtcDateTime)
    action: str = Field(max_length=60)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=80, index=True)
    before: dict | None = Field(default=None, sa_type=JSON)
    after: dict | None = Field(default=None, sa_type=JSON)
    reason: str | None = None
    request_id: str | None = Field(default=None, max_length=200)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement "chain `site_id` had `hash` at `chain_seq`", by a key the database does not hold."""

    id: int | None = Field(default=None, primary_key=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    chain_seq: int
    hash: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=200)


class RuleSet(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=24)
    version: int
    status: str = Field(default="DRAFT", max_length=12)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    document: dict = Field(sa_type=JSON)
    effective_from: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    created_by: str = Field(max_length=120)


class RuleDecision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    rule_set_id: int = Field(foreign_key="ruleset.id")
    version: int
    engine: str = Field(max_length=20)
    fired: list = Field(sa_type=JSON)
    input_hash: str = Field(max_length=64)
    facts: dict = Field(sa_type=JSON)
    trigger_id: int | None = Field(default=None, foreign_key="trigger.id", index=True)
    reversal_id: int | None = Field(default=None, foreign_key="reversal.id", index=True)
    work_order_id: int | None = Field(default=None, foreign_key="workorder.id")
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # The outcome of the evaluation this decision took part in (POSTED or BLOCKED; None for reversals and
    # for decisions recorded before migration 0004): a retried trigger keeps its blocked decisions too.
    outcome: str | None = Field(default=None, max_length=12)


class Deviation(SQLModel, table=True):
    __table_args__ = (Index("ix_deviation_open", "work_order_id", "reason_code", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    site_id: int = Field(foreign_key="site.id")
    category: str = Field(max_length=60)
    severity: str = Field(max_length=20)
    status: str = Field(default="OPEN", max_length=16)
    work_order_id: int | None = Field(default=None, foreign_key="workorder.id")
    reason_code: str = Field(max_length=60)
    occurrences: int = 1
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    root_cause: str | None = None
    capa_reference: str | None = Field(default=None, max_length=60)
