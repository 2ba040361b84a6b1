"""Inputs for triggers and scan issues."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.inputs import SignatureInput
from api.types.enums import TriggerKind


@strawberry.input
class SerialScanInput:
    line_no: int
    serial: str


@strawberry.input
class PostTriggerInput:
    idempotency_key: str
    work_order_id: strawberry.ID
    operation_seq: int | None = None
    kind: TriggerKind
    good_quantity: Decimal
    scrap_quantity: Decimal | None = None
    device_id: str | None = None
    device_timestamp: datetime | None = None
    serials: list[SerialScanInput] | None = None
    handling_unit: str | None = None


@strawberry.input
class RetryTriggerInput:
    trigger_id: strawberry.ID


@strawberry.input
class DiscardTriggerInput:
    trigger_id: strawberry.ID
    reason_code: str
    signature: SignatureInput


@strawberry.input
class ScanIssueInput:
    work_order_id: strawberry.ID
    line_no: int
    lot_id: strawberry.ID
    quantity: Decimal
    uom: str | None = None
    scanned_lot_number: str
    device_id: str | None = None
