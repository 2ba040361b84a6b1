"""The production record on the wire: work orders, their triggers, flush postings and deviations.

One module because these types point at each other (a work order lists its triggers, a trigger names
its work order and deviation): split across files they imported each other in a circle.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

import models
from api.types.block_reasons import BlockReason
from api.types.enums import DeviationStatus, PostingMethod, TriggerKind, TriggerOutcome, WorkOrderStatus
from api.types.governance import RuleDecision
from api.types.inventory import Lot, StagedLot, load_location, load_lot
from api.types.masterdata import Bom, Item, Location, Site, load_item
from api.types.node import Node, PageInfo, after_pk, cursor_of, page_info
from backflush.reads import records as reads
from models.stored import stored_id
from models.types import utcnow


@strawberry.type
class WorkOrderOperation:
    work_order_pk: strawberry.Private[int]
    seq: int
    name: str
    work_center: str | None
    input_location_pk: strawberry.Private[int | None]

    @strawberry.field
    async def input_location(self, info: strawberry.Info) -> Location | None:
        return await load_location(info, self.input_location_pk)

    @strawberry.field(description="Net good units reported at this operation (posted, not reversed)")
    async def good_quantity(self, info: strawberry.Info) -> Decimal:
        return sum((t.good_quantity for t in await self._counted(info)), Decimal(0))

    @strawberry.field(description="Net scrap units reported at this operation (posted, not reversed)")
    async def scrap_quantity(self, info: strawberry.Info) -> Decimal:
        return sum((t.scrap_quantity for t in await self._counted(info)), Decimal(0))

    async def _counted(self, info: strawberry.Info) -> list[models.Trigger]:
        rows = await info.context.loaders.by_column(models.Trigger, "work_order_id").load(self.work_order_pk)
        return [t for t in rows if t.operation_seq == self.seq and t.outcome == "POSTED" and not t.reversed]


@strawberry.type
class ComponentVariance:
    component_pk: strawberry.Private[int]
    substitutes_pk: strawberry.Private[int | None]
    standard_quantity: Decimal
    actual_quantity: Decimal
    usage_variance: Decimal
    yield_variance: Decimal
    mix_variance: Decimal
    residual_variance: Decimal
    variance_percent: Decimal | None
    usage_variance_cost: Decimal | None = strawberry.field(description="usageVariance at standard cost")
    uom: str

    @strawberry.field
    async def component(self, info: strawberry.Info) -> Item:
        return await load_item(info, self.component_pk)

    @strawberry.field(description="Set on an alternate's row: the primary it stood in for")
    async def substitutes_for(self, info: strawberry.Info) -> Item | None:
        return await load_item(info, self.substitutes_pk)

    @classmethod
    def from_row(cls, row: models.ComponentVariance) -> "ComponentVariance":
        return cls(component_pk=row.component_id, substitutes_pk=row.substitutes_for_item_id,
                   standard_quantity=row.standard_quantity, actual_quantity=row.actual_quantity,
                   usage_variance=row.usage_variance, yield_variance=row.yield_variance, mix_variance=row.mix_variance,
                   residual_variance=row.residual_variance, variance_percent=row.variance_percent,
                   usage_variance_cost=row.usage_variance_cost, uom=row.uom)


@strawberry.type
class WorkOrder(Node):
    number: str
    item_pk: strawberry.Private[int]
    site_pk: strawberry.Private[int]
    bom_pk: strawberry.Private[int]
    output_lot_pk: strawberry.Private[int | None]
    quantity: Decimal
    overproduction_tolerance_percent: Decimal
    status: WorkOrderStatus
    rework: bool = strawberry.field(description="A rework order, running the item's rework recipe")

    @strawberry.field
    async def item(self, info: strawberry.Info) -> Item:
        return await load_item(info, self.item_pk)

    @strawberry.field
    async def site(self, info: strawberry.Info) -> Site:
        return Site.from_row(await info.context.loaders.by_id(models.Site).load(self.site_pk))

    @strawberry.field(description="The BOM version bound at release (before release: the one in force now)")
    async def bom(self, info: strawberry.Info) -> Bom:
        return Bom.from_row(await info.context.loaders.by_id(models.Bom).load(self.bom_pk))

    @strawberry.field
    async def output_lot(self, info: strawberry.Info) -> Lot | None:
        return await load_lot(info, self.output_lot_pk)

    @strawberry.field
    async def operations(self, info: strawberry.Info) -> list[WorkOrderOperation]:
        rows = await info.context.loaders.by_column(models.WorkOrderOperation, "work_order_id", "seq").load(self.pk)
        return [WorkOrderOperation(work_order_pk=self.pk, seq=r.seq, name=r.name, work_center=r.work_center,
                                   input_location_pk=r.input_location_id) for r in rows]

    @strawberry.field(description="Bindings of lots staged to this order, with what remains of each")
    async def staged_lots(self, info: strawberry.Info) -> list[StagedLot]:
        rows = await info.context.loaders.by_column(models.StagedLot, "work_order_id").load(self.pk)
        return [StagedLot.from_row(r) for r in rows]

    @strawberry.field(description="Triggers reported on this order, oldest first (keyset cursors)")
    async def triggers(self, info: strawberry.Info, first: int | None = None,
                       after: str | None = None) -> TriggerConnection:
        page = await info.context.read(lambda s: reads.triggers_page(s, work_order_id=self.pk, first=first,
                                                                     after_id=after_pk(after)))
        return TriggerConnection(edges=[TriggerEdge(node=Trigger.from_row(r), cursor=cursor_of(r.id)) for r in page.rows],
                                 page_info=page_info(page))

    @strawberry.field(description="Component issues booked for this order, oldest first (keyset cursors)")
    async def flush_postings(self, info: strawberry.Info, first: int | None = None, after: str | None = None
                             ) -> FlushPostingConnection:
        page = await info.context.read(lambda s: reads.postings_page(s, work_order_id=self.pk, first=first,
                                                                     after_id=after_pk(after)))
        edges = [FlushPostingEdge(node=FlushPosting.from_row(r), cursor=cursor_of(r.id)) for r in page.rows]
        return FlushPostingConnection(edges=edges, page_info=page_info(page))

    @strawberry.field(description="Variances booked at close, one row per BOM line and per alternate used")
    async def variances(self, info: strawberry.Info) -> list[ComponentVariance]:
        rows = await info.context.loaders.by_column(models.ComponentVariance, "work_order_id").load(self.pk)
        return [ComponentVariance.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: models.WorkOrder) -> "WorkOrder":
        return cls(pk=stored_id(row), number=row.number, item_pk=row.item_id, site_pk=row.site_id, bom_pk=row.bom_id,
                   output_lot_pk=row.output_lot_id, quantity=row.quantity,
                   overproduction_tolerance_percent=row.overproduction_tolerance_percent,
                   status=WorkOrderStatus(row.status), rework=row.is_rework)

    @classmethod
    def from_columns(cls, values: Sequence[Any]) -> "WorkOrder":
        """from_row for a Core row of WORK_ORDER_COLUMNS, read by position (see Lot.from_columns)."""
        pk, number, item_pk, site_pk, bom_pk, output_lot_pk, quantity, tolerance, status, rework = values
        return cls(pk=pk, number=number, item_pk=item_pk, site_pk=site_pk, bom_pk=bom_pk, output_lot_pk=output_lot_pk,
                   quantity=quantity, overproduction_tolerance_percent=tolerance, status=WORK_ORDER_STATUSES[status],
                   rework=rework)


WORK_ORDER_COLUMNS = ("id", "number", "item_id", "site_id", "bom_id", "output_lot_id", "quantity",
                      "overproduction_tolerance_percent", "status", "is_rework")
WORK_ORDER_STATUSES = {status.value: status for status in WorkOrderStatus}


@strawberry.type
class WorkOrderEdge:
    node: WorkOrder
    cursor: str


@strawberry.type
class WorkOrderConnection:
    edges: list[WorkOrderEdge]
    page_info: PageInfo


METHOD_OF_KIND = {"BACKFLUSH_ISSUE": PostingMethod.BACKFLUSH, "SCAN_ISSUE": PostingMethod.SCAN_ISSUE,
                  "FORWARD_ISSUE": PostingMethod.FORWARD_ISSUE}


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
    async def work_order(self, info: strawberry.Info) -> WorkOrder:
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
        if row.work_order_id is None or row.from_location_id is None or row.bom_line_no is None:
            raise ValueError(f"ledger entry {row.id} is not a flush posting: no work order, location or BOM line")
        return cls(pk=stored_id(row), site_pk=row.site_id, trigger_pk=row.trigger_id, work_order_pk=row.work_order_id,
                   item_pk=row.item_id, substitutes_pk=row.substitutes_for_item_id, lot_pk=row.lot_id,
                   location_pk=row.from_location_id, line_no=row.bom_line_no, quantity=row.quantity, uom=row.uom,
                   method=METHOD_OF_KIND[row.kind], posted_at=row.created_at, line_quantity=row.line_quantity,
                   line_uom=row.line_uom, conversion_factor=row.conversion_factor)


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
    async def work_order(self, info: strawberry.Info) -> WorkOrder:
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
        return cls(pk=stored_id(row), site_pk=row.site_id, work_order_pk=row.work_order_id,
                   deviation_pk=row.deviation_id, reasons=row.block_reasons or [], idempotency_key=row.idempotency_key,
                   kind=TriggerKind(row.kind), operation_seq=row.operation_seq, good_quantity=row.good_quantity,
                   scrap_quantity=row.scrap_quantity, device_id=row.device_id, device_timestamp=row.device_timestamp,
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


@strawberry.type
class Deviation(Node):
    site_pk: strawberry.Private[int]
    number: str
    category: str
    severity: str
    status: DeviationStatus
    reason_code: str
    occurrences: int
    opened_at: datetime
    closed_at: datetime | None
    root_cause: str | None
    capa_reference: str | None
    work_order_pk: strawberry.Private[int | None]

    @strawberry.field
    async def work_order(self, info: strawberry.Info) -> WorkOrder | None:
        if self.work_order_pk is None:
            return None
        return WorkOrder.from_row(await info.context.loaders.by_id(models.WorkOrder).load(self.work_order_pk))

    @classmethod
    def from_row(cls, row: models.Deviation) -> "Deviation":
        return cls(pk=stored_id(row), site_pk=row.site_id, number=row.number, category=row.category,
                   severity=row.severity, status=DeviationStatus(row.status), reason_code=row.reason_code,
                   occurrences=row.occurrences, opened_at=row.opened_at, closed_at=row.closed_at,
                   root_cause=row.root_cause, capa_reference=row.capa_reference, work_order_pk=row.work_order_id)
