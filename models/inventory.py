"""Lots, serials, balances, the immutable ledger and staged-lot bindings (SPEC §3)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import Quantity, UtcDateTime, non_negative, utcnow


class Lot(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("item_id", "lot_number"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    lot_number: str = Field(max_length=80)
    status: str = Field(default="RELEASED", max_length=12)
    expires_on: date | None = None
    received_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    supplier: str | None = Field(default=None, max_length=120)
    potency: Decimal | None = Field(default=None, sa_type=Quantity)


class Serial(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("lot_id", "serial"),)
    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    serial: str = Field(max_length=80)
    # Set once, by the posting that consumed it: a serial is consumed once, ever.
    consumed_by_entry_id: int | None = Field(default=None, foreign_key="ledgerentry.id")


class Balance(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("lot_id", "location_id"),
        CheckConstraint(non_negative("quantity"), name="balance_quantity_non_negative"),
    )
    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    location_id: int = Field(foreign_key="location.id", index=True)
    quantity: Decimal = Field(sa_type=Quantity)


class LedgerEntry(SQLModel, table=True):
    """One movement of one lot. Never updated: a correction is a new row pointing at this one."""

    __table_args__ = (
        CheckConstraint("CAST(quantity AS NUMERIC) > 0", name="ledger_quantity_positive"),
        Index("ix_ledger_work_order", "work_order_id", "id"),
        Index("ix_ledger_lot", "lot_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)  # RECEIPT STAGE BACKFLUSH_ISSUE SCAN_ISSUE ... REVERSAL
    site_id: int = Field(foreign_key="site.id")
    lot_id: int = Field(foreign_key="lot.id")
    item_id: int = Field(foreign_key="item.id")
    from_location_id: int | None = Field(default=None, foreign_key="location.id")
    to_location_id: int | None = Field(default=None, foreign_key="location.id")
    quantity: Decimal = Field(sa_type=Quantity)  # in the item's base uom, always positive
    uom: str = Field(max_length=20)
    line_quantity: Decimal | None = Field(default=None, sa_type=Quantity)
    line_uom: str | None = Field(default=None, max_length=20)
    conversion_factor: Decimal | None = Field(default=None, sa_type=Quantity)
    cost: Decimal | None = Field(default=None, sa_type=Quantity)
    work_order_id: int | None = Field(default=None, foreign_key="workorder.id")
    trigger_id: int | None = Field(default=None, foreign_key="trigger.id", index=True)
    staged_lot_id: int | None = Field(default=None, foreign_key="stagedlot.id")
    bom_line_no: int | None = None
    substitutes_for_item_id: int | None = Field(default=None, foreign_key="item.id")
    reverses_entry_id: int | None = Field(default=None, foreign_key="ledgerentry.id", unique=True)
    reason_code: str | None = Field(default=None, max_length=40)
    actor: str = Field(max_length=120)
    device_id: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StagedLot(SQLModel, table=True):
    """A quantity of a lot bound to one work order at its WIP location: "no stage, no flush"."""

    __table_args__ = (
        CheckConstraint(non_negative("remaining_quantity"), name="staged_remaining_non_negative"),
        Index("ix_stagedlot_work_order", "work_order_id", "lot_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="workorder.id")
    lot_id: int = Field(foreign_key="lot.id")
    location_id: int = Field(foreign_key="location.id")
    staged_quantity: Decimal = Field(sa_type=Quantity)
    remaining_quantity: Decimal = Field(sa_type=Quantity)
    staged_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
