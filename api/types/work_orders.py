"""Work orders and their operations on the wire."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

import models
from api.types.enums import WorkOrderStatus
from api.types.inventory import Lot, StagedLot, load_location, load_lot
from api.types.masterdata import Bom, Item, Location, Site, load_item
from api.types.node import Node, PageInfo, after_pk, cursor_of, page_info
from backflush.reads import records as reads

if TYPE_CHECKING:
    from api.types.triggers import FlushPostingConnection, TriggerConnection


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
                       after: str | None = None) -> Annotated["TriggerConnection", strawberry.lazy("api.types.triggers")]:
        from api.types.triggers import Trigger, TriggerConnection, TriggerEdge
        page = await info.context.read(lambda s: reads.triggers_page(s, work_order_id=self.pk, first=first,
                                                                     after_id=after_pk(after)))
        return TriggerConnection(edges=[TriggerEdge(node=Trigger.from_row(r), cursor=cursor_of(r.id)) for r in page.rows],
                                 page_info=page_info(page))

    @strawberry.field(description="Component issues booked for this order, oldest first (keyset cursors)")
    async def flush_postings(self, info: strawberry.Info, first: int | None = None, after: str | None = None
                             ) -> Annotated["FlushPostingConnection", strawberry.lazy("api.types.triggers")]:
        from api.types.triggers import FlushPosting, FlushPostingConnection, FlushPostingEdge
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
        return cls(pk=row.id, number=row.number, item_pk=row.item_id, site_pk=row.site_id, bom_pk=row.bom_id,
                   output_lot_pk=row.output_lot_id, quantity=row.quantity,
                   overproduction_tolerance_percent=row.overproduction_tolerance_percent,
                   status=WorkOrderStatus(row.status), rework=row.is_rework)


@strawberry.type
class WorkOrderEdge:
    node: WorkOrder
    cursor: str


@strawberry.type
class WorkOrderConnection:
    edges: list[WorkOrderEdge]
    page_info: PageInfo
