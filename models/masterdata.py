"""Governed master data: sites, locations, items, UOM conversions, BOMs (SPEC §2, §3)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import Quantity, UtcDateTime, non_negative, utcnow


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)


class Location(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    code: str = Field(max_length=40)
    kind: str = Field(max_length=20)  # STOCK WIP SUPERMARKET QUARANTINE FINISHED


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=200)
    base_uom: str = Field(max_length=20)
    precision: int = Field(ge=0, le=9)
    rounding: str = Field(default="HALF_UP", max_length=10)
    lot_controlled: bool = True
    serialized: bool = False
    variable_potency: bool = False
    phantom: bool = False
    shelf_life_days: int | None = None
    standard_cost: Decimal | None = Field(default=None, sa_type=Quantity)


class UomConversion(SQLModel, table=True):
    """from_uom → to_uom by factor; global (no item), item-specific, or lot-specific (measured)."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True)
    from_uom: str = Field(max_length=20)
    to_uom: str = Field(max_length=20)
    factor: Decimal = Field(sa_type=Quantity)
    density_source: str | None = None
    temperature_note: str | None = None
    version: int = 1
    status: str = Field(default="DRAFT", max_length=12)
    effective_from: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Bom(SQLModel, table=True):
    """A production BOM, or a rework recipe (`rework`) that may consume the very item it makes."""

    __table_args__ = (
        UniqueConstraint("item_id", "rework", "version"),
        CheckConstraint("CAST(base_quantity AS NUMERIC) > 0", name="bom_base_quantity_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    version: int
    rework: bool = False
    status: str = Field(default="DRAFT", max_length=12)
    base_quantity: Decimal = Field(default=Decimal(1), sa_type=Quantity)
    effective_from: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class BomLine(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("bom_id", "line_no"),
        CheckConstraint(non_negative("quantity"), name="bom_line_quantity_non_negative"),
    )
    id: int | None = Field(default=None, primary_key=True)
    bom_id: int = Field(foreign_key="bom.id", index=True)
    line_no: int
    component_id: int = Field(foreign_key="item.id")
    quantity: Decimal = Field(sa_type=Quantity)
    uom: str = Field(max_length=20)
    scrap_percent: Decimal = Field(default=Decimal(0), sa_type=Quantity)
    setup_scrap: Decimal = Field(default=Decimal(0), sa_type=Quantity)
    yield_percent: Decimal = Field(default=Decimal(100), sa_type=Quantity)
    scrap_source: str | None = None
    operation_seq: int | None = None
    posting_method: str = Field(default="BACKFLUSH", max_length=16)


class BomAlternate(SQLModel, table=True):
    __table_args__ = (Index("ix_bomalternate_line", "bom_line_id", "priority"),)
    id: int | None = Field(default=None, primary_key=True)
    bom_line_id: int = Field(foreign_key="bomline.id")
    component_id: int = Field(foreign_key="item.id")
    ratio: Decimal = Field(sa_type=Quantity)
    priority: int
