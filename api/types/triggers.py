"""Triggers, flush postings, block reasons and previews on the wire."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

import models
from api.types.enums import PostingMethod, TriggerKind, TriggerOutcome
from api.types.governance import Deviation, RuleDecision
from api.types.inventory import Lot, load_location, load_lot
from api.types.masterdata import Item, Location, load_item
from api.types.node import Node, PageInfo
from models.types import utcnow

if TYPE_CHECKING:
    from api.types.work_orders import WorkOrder

METHOD_OF_KIND = {"BACKFLUSH_ISSUE": PostingMethod.BACKFLUSH, "SCAN_ISSUE": PostingMethod.SCAN_ISSUE,
                  "FORWARD_ISSUE": PostingMethod.FORWARD_ISSUE}


@strawberry.type
class BlockReason:
    code: str
    message: str
    component_code: strawberry.Private[str | None]
    required: Decimal | None
    eligible: Decimal | None
    line_no: int | None
    uom: str | None

    @strawberry.field
    async def component(self, info: strawberry.Info) -> Item | None:
        return await load_item_by_code(info, self.component_code)

    @classmethod
    def from_json(cls, reason: dict) -> "BlockReason":
        def dec(value):
            return None if value is None else Decimal(value)
        return cls(code=reason["code"], message=reason["message"], component_code=reason.get("component_code"),
                   required=dec(reason.get("required")), eligible=dec(reason.get("eligible")),
                   line_no=reason.get("line_no"), uom=reason.get("uom"))


async def load_item_by_code(info: strawberry.Info, code: str | None) -> Item | None:
    if code is None:
        return None
    row = await info.context.loaders.custom("item_by_code", _items_by_code).load(code)
    return row and Item.from_row(row)


def _items_by_code(session, codes: list[str]) -> list:
    from backflush.reads.records import items_by_codes
    found = items_by_codes(session, codes)
    return [found.get(code) for code in codes]


@strawberry.type
class FlushPosting(Node):
    site_pk: strawberry.Private[int]
    trigger_pk: strawberry.Private[int | None]
    work_order_pk: strawberry.Private[int]
    item_pk: strawberry.Private[int]
    substitutes_pk: strawberry.Private[int | None]
    lot_pk: strawberry.Private[int]
    location_pk: strawberry.Private[int]
    line_no: int
    quantity: Decimal
    uom: str
    method: PostingMethod
    posted_at: datetime
    line_quantity: Decimal | None
    line_uom: str | None
    conversion_factor: Decimal | None

    @strawberry.field
    async def trigger(self, info: strawberry.Info) -> "Trigger | None":
        if self.trigger_pk is None:
            return None
        return Trigger.from_row(await info.context.loaders.by_id(models.Trigger).load(self.trigger_pk))

    @strawberry.field
    async def work_order(self, info: strawberry.Info) -> Annotated["WorkOrder", strawberry.lazy("api.types.work_orders")]:
        from api.types.work_orders import WorkOrder  # deferred: work orders list their triggers
        return WorkOrder.from_row(await info.context.loaders.by_id(models.WorkOrder).load(self.work_order_pk))

    @strawberry.field
    async def component(self, info: strawberry.Info) -> Item:
        return await load_item(info, self.item_pk)

    @strawberry.field
    async def substitutes_for(self, info: strawberry.Info) -> Item | None:
        return await load_item(info, self.substitutes_pk)

    @strawberry.field
    async def lot(self, info: strawberry.Info) -> Lot:
        return await load_lot(info, self.lot_pk)

    @strawberry.field
    async def location(self, info: strawberry.Info) -> Location:
        return await load_location(info, self.location_pk)

    @strawberry.field(description="True once a reversal has booked the compensating row")
    async def reversed(self, info: strawberry.Info) -> bool:
        rows = await info.context.loaders.by_column(models.LedgerEntry, "reverses_entry_id").load(self.pk)
        return bool(rows)

    @classmethod
    def from_row(cls, row: models.LedgerEntry) -> "FlushPosting":
        return cls(pk=row.id, site_pk=row.site_id, trigger_pk=row.trigger_id, work_order_pk=row.work_order_id, item_pk=row.item_id,
                   substitutes_pk=row.substitutes_for_item_id, lot_pk=row.lot_id, location_pk=row.from_location_id,
                   line_no=row.bom_line_no, quantity=row.quantity, uom=row.uom, method=METHOD_OF_KIND[row.kind],
                   posted_at=row.created_at, line_quantity=row.line_quantity, line_uom=row.line_uom,
                   conversion_factor=row.conversion_factor)


@strawberry.type(description="One evaluation of a trigger: the first, then each retry")
class TriggerAttempt:
    number: int
    outcome: TriggerOutcome
    evaluated_at: datetime
    reasons: strawberry.Private[list]

    @strawberry.field(description="Empty when the attempt posted")
    def block_reasons(self) -> list[BlockReason]:
        return [BlockReason.from_json(r) for r in self.reasons]

    @classmethod
    def from_row(cls, row: models.TriggerAttempt) -> "TriggerAttempt":
        return cls(number=row.number, outcome=TriggerOutcome(row.outcome), evaluated_at=row.evaluated_at,
                   reasons=row.block_reasons or [])


@strawberry.type
class Trigger(Node):
    site_pk: strawberry.Private[int]
    work_order_pk: strawberry.Private[int]
    deviation_pk: strawberry.Private[int | None]
    reasons: strawberry.Private[list]
    idempotency_key: str
    kind: TriggerKind
    operation_seq: int
    good_quantity: Decimal
    scrap_quantity: Decimal
    device_id: str | None
    device_timestamp: datetime | None
    clock_skew_seconds: Decimal | None
    handling_unit: str | None
    received_at: datetime
    posted_at: datetime | None
    outcome: TriggerOutcome
    reversed: bool
    blocked_since: datetime | None = strawberry.field(description="When the trigger was first blocked")

    @strawberry.field
    async def work_order(self, info: strawberry.Info) -> Annotated["WorkOrder", strawberry.lazy("api.types.work_orders")]:
        from api.types.work_orders import WorkOrder  # deferred: work orders list their triggers
        return WorkOrder.from_row(await info.context.loaders.by_id(models.WorkOrder).load(self.work_order_pk))

    @strawberry.field(description="Why it is (or, once discarded, was) blocked; empty once POSTED: earlier "
                                  "attempts keep theirs")
    def block_reasons(self) -> list[BlockReason]:
        if self.outcome == TriggerOutcome.POSTED:
            return []
        return [BlockReason.from_json(r) for r in self.reasons]

    @strawberry.field(description="Seconds since it was first blocked, while it is BLOCKED; null otherwise")
    def age_seconds(self) -> int | None:
        if self.outcome != TriggerOutcome.BLOCKED or self.blocked_since is None:
            return None
        return int((utcnow() - self.blocked_since).total_seconds())

    @strawberry.field(description="Every evaluation, oldest first")
    async def attempts(self, info: strawberry.Info) -> list[TriggerAttempt]:
        rows = await info.context.loaders.by_column(models.TriggerAttempt, "trigger_id", order_by="number").load(self.pk)
        return [TriggerAttempt.from_row(r) for r in rows]

    @strawberry.field
    async def postings(self, info: strawberry.Info) -> list[FlushPosting]:
        rows = await info.context.loaders.by_column(models.LedgerEntry, "trigger_id").load(self.pk)
        return [FlushPosting.from_row(r) for r in rows if r.kind in METHOD_OF_KIND]

    @strawberry.field
    async def decisions(self, info: strawberry.Info) -> list[RuleDecision]:
        rows = await info.context.loaders.by_column(models.RuleDecision, "trigger_id").load(self.pk)
        return [RuleDecision.from_row(r) for r in rows]

    @strawberry.field
    async def deviation(self, info: strawberry.Info) -> Deviation | None:
        if self.deviation_pk is None:
            return None
        return Deviation.from_row(await info.context.loaders.by_id(models.Deviation).load(self.deviation_pk))

    @classmethod
    def from_row(cls, row: models.Trigger) -> "Trigger":
        return cls(pk=row.id, site_pk=row.site_id, work_order_pk=row.work_order_id, deviation_pk=row.deviation_id,
                   reasons=row.block_reasons or [], idempotency_key=row.idempotency_key, kind=TriggerKind(row.kind),
                   operation_seq=row.operation_seq, good_quantity=row.good_quantity, scrap_quantity=row.scrap_quantity,
                   device_id=row.device_id, device_timestamp=row.device_timestamp,
                   clock_skew_seconds=row.clock_skew_seconds, handling_unit=row.handling_unit,
                   received_at=row.received_at, posted_at=row.posted_at, outcome=TriggerOutcome(row.outcome),
                   reversed=row.reversed, blocked_since=row.first_blocked_at)


@strawberry.type
class TriggerEdge:
    node: Trigger
    cursor: str


@strawberry.type
class TriggerConnection:
    edges: list[TriggerEdge]
    page_info: PageInfo


@strawberry.type
class FlushPostingEdge:
    node: FlushPosting
    cursor: str


@strawberry.type
class FlushPostingConnection:
    edges: list[FlushPostingEdge]
    page_info: PageInfo
