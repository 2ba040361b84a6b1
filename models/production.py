"""Work orders, triggers, genealogy, reversals and close variances (SPEC §4, §5)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import Quantity, UtcDateTime, non_negative, utcnow


class WorkOrder(SQLModel, table=True):
    __table_args__ = (CheckConstraint("CAST(quantity AS NUMERIC) > 0", name="work_order_quantity_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=60, unique=True)
    item_id: int = Field(foreign_key="item.id")
    site_id: int = Field(foreign_key="site.id", index=True)
    bom_id: int = Field(foreign_key="bom.id")
    quantity: Decimal = Field(sa_type=Quantity)
    overproduction_tolerance_percent: Decimal = Field(default=Decimal(0), sa_type=Quantity)
    status: str = Field(default="CREATED", max_length=12)
    wip_location_id: int = Field(foreign_key="location.id")
    output_location_id: int = Field(foreign_key="location.id")
    output_lot_id: int | None = Field(default=None, foreign_key="lot.id")
    is_rework: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WorkOrderOperation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("work_order_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="workorder.id", index=True)
    seq: int
    name: str = Field(max_length=120)
    work_center: str | None = Field(default=None, max_length=60)
    input_location_id: int | None = Field(default=None, foreign_key="location.id")


class Trigger(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("client_id", "idempotency_key", name="uq_trigger_client_key"),
        CheckConstraint(non_negative("good_quantity"), name="trigger_good_non_negative"),
        CheckConstraint(non_negative("scrap_quantity"), name="trigger_scrap_non_negative"),
        Index("ix_trigger_work_order", "work_order_id", "id"),
        Index("ix_trigger_received", "received_at"),
        Index("ix_trigger_outcome", "outcome", "id"),  # the correction worklist reads BLOCKED ones in order
    )
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=120)
    idempotency_key: str = Field(max_length=200)
    payload_hash: str = Field(max_length=64)
    site_id: int = Field(foreign_key="site.id")
    work_order_id: int = Field(foreign_key="workorder.id")
    operation_seq: int
    kind: str = Field(max_length=24)
    good_quantity: Decimal = Field(sa_type=Quantity)
    scrap_quantity: Decimal = Field(default=Decimal(0), sa_type=Quantity)
    device_id: str | None = Field(default=None, max_length=80)
    device_timestamp: datetime | None = Field(default=None, sa_type=UtcDateTime)
    clock_skew_seconds: Decimal | None = Field(default=None, sa_type=Quantity)
    handling_unit: str | None = Field(default=None, max_length=80)
    serials: list | None = Field(default=None, sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    outcome: str = Field(max_length=12)  # POSTED BLOCKED DISCARDED
    block_reasons: list | None = Field(default=None, sa_type=JSON)
    posted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    discarded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    discard_reason_code: str | None = Field(default=None, max_length=40)
    reversed: bool = False
    deviation_id: int | None = Field(default=None, foreign_key="deviation.id")
    first_blocked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    actor: str = Field(max_length=120)


class TriggerAttempt(SQLModel, table=True):
    """One evaluation of a trigger: its first, and each retry. The trigger row holds only the latest outcome."""
    __table_args__ = (UniqueConstraint("trigger_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    trigger_id: int = Field(foreign_key="trigger.id")
    number: int  # 1 for the first evaluation
    outcome: str = Field(max_length=12)  # POSTED BLOCKED
    block_reasons: list | None = Field(default=None, sa_type=JSON)
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str = Field(max_length=120)


class GenealogyEdge(SQLModel, table=True):
    __table_args__ = (Index("ix_genealogy_from", "from_lot_id"), Index("ix_genealogy_to", "to_lot_id"))
    id: int | None = Field(default=None, primary_key=True)
    from_lot_id: int = Field(foreign_key="lot.id")
    to_lot_id: int = Field(foreign_key="lot.id")
    quantity: Decimal = Field(sa_type=Quantity)
    uom: str = Field(max_length=20)
    work_order_id: int = Field(foreign_key="workorder.id")
    trigger_id: int | None = Field(default=None, foreign_key="trigger.id")
    ledger_entry_id: int = Field(foreign_key="ledgerentry.id", unique=True)
    reversed: bool = False


class Reversal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    trigger_id: int = Field(foreign_key="trigger.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    reason_code: str = Field(max_length=40)
    comment: str | None = None
    status: str = Field(default="PENDING_SIGNATURES", max_length=20)
    required: list | None = Field(default=None, sa_type=JSON)
    requested_by: str = Field(max_length=120)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    executed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    rejected_reason: str | None = None


class ComponentVariance(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="workorder.id", index=True)
    line_no: int
    component_id: int = Field(foreign_key="item.id")
    substitutes_for_item_id: int | None = Field(default=None, foreign_key="item.id")
    standard_quantity: Decimal = Field(sa_type=Quantity)
    actual_quantity: Decimal = Field(sa_type=Quantity)
    usage_variance: Decimal = Field(sa_type=Quantity)
    yield_variance: Decimal = Field(sa_type=Quantity)
    mix_variance: Decimal = Field(sa_type=Quantity)
    residual_variance: Decimal = Field(sa_type=Quantity)
    variance_percent: Decimal | None = Field(default=None, sa_type=Quantity)
    usage_variance_cost: Decimal | None = Field(default=None, sa_type=Quantity)
    uom: str = Field(max_length=20)
