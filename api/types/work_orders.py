"""Work orders and their operations on the wire."""
from __future__ import annotations

from decimal import Decimal

import strawberry

import models
from api.types.enums import WorkOrderStatus
from api.types.inventory import Lot, StagedLot, load_location, load_lot
from api.types.masterdata import Bom, Item, Location, Site, load_item
from api.types.node import Node


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
class WorkOrder(Node):
    number: str
    item_pk: strawberry.Private[int]
    site_pk: strawberry.Private[int]
    bom_pk: strawberry.Private[int]
    output_lot_pk: strawberry.Private[int | None]
    quantity: Decimal
    overproduction_tolerance_percent: Decimal
    status: WorkOrderStatus

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

    @classmethod
    def from_row(cls, row: models.WorkOrder) -> "WorkOrder":
        return cls(pk=row.id, number=row.number, item_pk=row.item_id, site_pk=row.site_id, bom_pk=row.bom_id,
                   output_lot_pk=row.output_lot_id, quantity=row.quantity,
                   overproduction_tolerance_percent=row.overproduction_tolerance_percent,
                   status=WorkOrderStatus(row.status))


@strawberry.type
class WorkOrderEdge:
    node: WorkOrder
    cursor: str


@strawberry.type
class WorkOrderConnection:
    edges: list[WorkOrderEdge]
    page_info: "PageInfo"


from api.types.node import PageInfo  # noqa: E402  (forward reference above)
