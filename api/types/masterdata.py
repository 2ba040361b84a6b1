"""Sites, locations, items, UOM conversions, BOMs and signatures on the wire."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import overload

import strawberry

import models
from api.types.enums import ApprovalStatus, LocationKind, PostingMethod, Rounding
from api.types.node import Node, PageInfo
from models.stored import stored_id


@strawberry.type
class Site(Node):
    code: str
    name: str

    @classmethod
    def from_row(cls, row: models.Site) -> "Site":
        return cls(pk=stored_id(row), code=row.code, name=row.name)


@strawberry.type
class Location(Node):
    code: str
    kind: LocationKind
    site_pk: strawberry.Private[int]

    @strawberry.field
    async def site(self, info: strawberry.Info) -> Site:
        return Site.from_row(await info.context.loaders.by_id(models.Site).load(self.site_pk))

    @classmethod
    def from_row(cls, row: models.Location) -> "Location":
        return cls(pk=stored_id(row), code=row.code, kind=LocationKind(row.kind), site_pk=row.site_id)


@strawberry.type
class Item(Node):
    code: str
    name: str
    base_uom: str
    precision: int
    rounding: Rounding
    lot_controlled: bool
    serialized: bool
    variable_potency: bool
    phantom: bool
    shelf_life_days: int | None
    standard_cost: Decimal | None

    @classmethod
    def from_row(cls, row: models.Item) -> "Item":
        return cls(pk=stored_id(row), code=row.code, name=row.name, base_uom=row.base_uom, precision=row.precision,
                   rounding=Rounding(row.rounding), lot_controlled=row.lot_controlled, serialized=row.serialized,
                   variable_potency=row.variable_potency, phantom=row.phantom, shelf_life_days=row.shelf_life_days,
                   standard_cost=row.standard_cost)


@strawberry.type
class ItemEdge:
    node: Item
    cursor: str


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]
    page_info: PageInfo


@overload
async def load_item(info: strawberry.Info, item_id: int) -> Item: ...
@overload
async def load_item(info: strawberry.Info, item_id: int | None) -> Item | None: ...
async def load_item(info: strawberry.Info, item_id: int | None) -> Item | None:
    if item_id is None:
        return None
    return Item.from_row(await info.context.loaders.by_id(models.Item).load(item_id))


@strawberry.type
class ESignature:
    signer_name: str
    meaning: str
    signed_at: datetime
    record_hash: str

    @classmethod
    def from_row(cls, row: models.ESignature) -> "ESignature":
        return cls(signer_name=row.signer_name, meaning=row.meaning, signed_at=row.signed_at, record_hash=row.record_hash)


async def load_signatures(info: strawberry.Info, record_type: str, record_id: int) -> list[ESignature]:
    rows = await info.context.loaders.by_column(models.ESignature, "record_id").load(record_id)
    return [ESignature.from_row(r) for r in rows if r.record_type == record_type]


@strawberry.type
class UomConversion(Node):
    item_pk: strawberry.Private[int | None]
    from_uom: str
    to_uom: str
    factor: Decimal
    version: int
    status: ApprovalStatus

    @strawberry.field
    async def item(self, info: strawberry.Info) -> Item | None:
        return await load_item(info, self.item_pk)

    @classmethod
    def from_row(cls, row: models.UomConversion) -> "UomConversion":
        return cls(pk=stored_id(row), item_pk=row.item_id, from_uom=row.from_uom, to_uom=row.to_uom, factor=row.factor,
                   version=row.version, status=ApprovalStatus(row.status))


@strawberry.type
class BomAlternate:
    component_pk: strawberry.Private[int]
    ratio: Decimal
    priority: int

    @strawberry.field
    async def component(self, info: strawberry.Info) -> Item:
        return await load_item(info, self.component_pk)


@strawberry.type
class BomLine:
    line_pk: strawberry.Private[int]
    component_pk: strawberry.Private[int]
    line_no: int
    quantity: Decimal
    uom: str
    scrap_percent: Decimal
    setup_scrap: Decimal
    yield_percent: Decimal
    scrap_source: str | None
    operation_seq: int | None
    posting_method: PostingMethod

    @strawberry.field
    async def component(self, info: strawberry.Info) -> Item:
        return await load_item(info, self.component_pk)

    @strawberry.field
    async def alternates(self, info: strawberry.Info) -> list[BomAlternate]:
        rows = await info.context.loaders.by_column(models.BomAlternate, "bom_line_id", "priority").load(self.line_pk)
        return [BomAlternate(component_pk=r.component_id, ratio=r.ratio, priority=r.priority) for r in rows]

    @classmethod
    def from_row(cls, row: models.BomLine) -> "BomLine":
        return cls(line_pk=stored_id(row), component_pk=row.component_id, line_no=row.line_no, quantity=row.quantity,
                   uom=row.uom, scrap_percent=row.scrap_percent, setup_scrap=row.setup_scrap,
                   yield_percent=row.yield_percent, scrap_source=row.scrap_source, operation_seq=row.operation_seq,
                   posting_method=PostingMethod(row.posting_method))


@strawberry.type
class Bom(Node):
    item_pk: strawberry.Private[int]
    version: int
    status: ApprovalStatus
    base_quantity: Decimal
    effective_from: datetime | None
    rework: bool = strawberry.field(description="A rework recipe rather than the production BOM")

    @strawberry.field
    async def item(self, info: strawberry.Info) -> Item:
        return await load_item(info, self.item_pk)

    @strawberry.field
    async def lines(self, info: strawberry.Info) -> list[BomLine]:
        rows = await info.context.loaders.by_column(models.BomLine, "bom_id", "line_no").load(self.pk)
        return [BomLine.from_row(r) for r in rows]

    @strawberry.field
    async def signatures(self, info: strawberry.Info) -> list[ESignature]:
        return await load_signatures(info, "bom", self.pk)

    @classmethod
    def from_row(cls, row: models.Bom) -> "Bom":
        return cls(pk=stored_id(row), item_pk=row.item_id, version=row.version, status=ApprovalStatus(row.status),
                   base_quantity=row.base_quantity, effective_from=row.effective_from, rework=row.rework)
