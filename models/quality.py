"""Quality records the floor is gated by (issue 14): label versions and NCMRs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class LabelVersion(SQLModel, table=True):
    """One version of a work order's label; APPROVED once QA has e-signed it ("no label approval, no packout")."""

    __table_args__ = (UniqueConstraint("work_order_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id")
    work_order_id: int = Field(foreign_key="workorder.id", index=True)
    version: int
    content: str = Field(max_length=4000)  # the label text or the artwork reference QA reviewed
    status: str = Field(default="DRAFT", max_length=12)  # DRAFT APPROVED
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    approved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Ncmr(SQLModel, table=True):
    """A non-conformance material report on one lot: the lot stays ON_HOLD until QA dispositions it, signed."""

    __table_args__ = (Index("ix_ncmr_lot_status", "lot_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    site_id: int = Field(foreign_key="site.id")
    lot_id: int = Field(foreign_key="lot.id")
    status: str = Field(default="OPEN", max_length=16)  # OPEN DISPOSITIONED
    description: str = Field(max_length=2000)
    status_before: str = Field(max_length=12)  # the lot's status when the NCMR put it on hold
    disposition: str | None = Field(default=None, max_length=12)  # the lot status QA decided
    opened_by: str = Field(max_length=120)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    dispositioned_by: str | None = Field(default=None, max_length=120)
    dispositioned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
