"""Lots, balances and staged-lot bindings on the wire."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, overload

import strawberry

import models
from api.types.enums import LotStatus
from api.types.masterdata import Item, Location, load_item
from api.types.node import Node, PageInfo
from models.stored import stored_id


@strawberry.type
class LotAtLocation:
    """A quantity of one lot at one location: balances, bindings, postings and planned draws."""

    lot_pk: strawberry.Private[int]
    location_pk: strawberry.Private[int]

    @strawberry.field
    async def lot(self, info: strawberry.Info) -> "Lot":
        return await load_lot(info, self.lot_pk)

    @strawberry.field
    async def location(self, info: strawberry.Info) -> Location:
        return await load_location(info, self.location_pk)


@strawberry.type
class Balance(LotAtLocation):
    quantity: Decimal
    uom: str


@strawberry.type
class Lot(Node):
    item_pk: strawberry.Private[int]
    site_pk: strawberry.Private[int]
    lot_number: str
    status: LotStatus
    expires_on: date | None
    received_at: datetime | None
    supplier: str | None
    potency: Decimal | None

    @strawberry.field
    async def item(self, info: strawberry.Info) -> Item:
        return await load_item(info, self.item_pk)

    @strawberry.field(description="Non-zero balances of this lot, in the item's base uom")
    async def balances(self, info: strawberry.Info) -> list[Balance]:
        rows = await info.context.loaders.by_column(models.Balance, "lot_id").load(self.pk)
        item = await info.context.loaders.by_id(models.Item).load(self.item_pk)
        return [Balance(lot_pk=r.lot_id, location_pk=r.location_id, quantity=r.quantity, uom=item.base_uom)
                for r in rows if r.quantity != 0]

    @classmethod
    def from_row(cls, row: models.Lot) -> "Lot":
        return cls(pk=stored_id(row), item_pk=row.item_id, site_pk=row.site_id, lot_number=row.lot_number,
                   status=LotStatus(row.status), expires_on=row.expires_on, received_at=row.received_at,
                   supplier=row.supplier, potency=row.potency)

    @classmethod
    def from_columns(cls, values: Sequence[Any]) -> "Lot":
        """from_row for a Core row of LOT_COLUMNS: read by position, a thousand lots (a genealogy tree) take a
        millisecond, by name about seven (issue 12)."""
        pk, item_pk, site_pk, lot_number, status, expires_on, received_at, supplier, potency = values
        return cls(pk=pk, item_pk=item_pk, site_pk=site_pk, lot_number=lot_number, status=LOT_STATUSES[status],
                   expires_on=expires_on, received_at=received_at, supplier=supplier, potency=potency)


LOT_COLUMNS = ("id", "item_id", "site_id", "lot_number", "status", "expires_on", "received_at", "supplier", "potency")
LOT_STATUSES = {status.value: status for status in LotStatus}  # a look-up, not an Enum call per lot


@strawberry.type
class LotEdge:
    node: Lot
    cursor: str


@strawberry.type
class LotConnection:
    edges: list[LotEdge]
    page_info: PageInfo


@overload
async def load_lot(info: strawberry.Info, lot_id: int) -> Lot: ...
@overload
async def load_lot(info: strawberry.Info, lot_id: int | None) -> Lot | None: ...
async def load_lot(info: strawberry.Info, lot_id: int | None) -> Lot | None:
    if lot_id is None:
        return None
    return Lot.from_row(await info.context.loaders.by_id(models.Lot).load(lot_id))


@overload
async def load_location(info: strawberry.Info, location_id: int) -> Location: ...
@overload
async def load_location(info: strawberry.Info, location_id: int | None) -> Location | None: ...
async def load_location(info: strawberry.Info, location_id: int | None) -> Location | None:
    if location_id is None:
        return None
    return Location.from_row(await info.context.loaders.by_id(models.Location).load(location_id))


@strawberry.type
class StagedLot(LotAtLocation):
    staged_quantity: Decimal
    remaining_quantity: Decimal
    staged_at: datetime

    @classmethod
    def from_row(cls, row: models.StagedLot) -> "StagedLot":
        return cls(lot_pk=row.lot_id, location_pk=row.location_id, staged_quantity=row.staged_quantity,
                   remaining_quantity=row.remaining_quantity, staged_at=row.staged_at)
