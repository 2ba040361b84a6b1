"""Genealogy trees on the wire: nodes and edges, so clients can draw any shape."""
from __future__ import annotations

from decimal import Decimal

import strawberry

import models
from api.types.enums import GenealogyDirection
from api.types.inventory import Lot, load_lot
from api.types.triggers import FlushPosting
from api.types.work_orders import WorkOrder
from backflush.reads.genealogy import LotLink, Tree


@strawberry.type(description="One per component lot, output lot and work order: quantity sums its unreversed "
                             "postings; reversed once every one of them is reversed")
class GenealogyEdge:
    posting_pks: strawberry.Private[tuple[int, ...]]
    from_pk: strawberry.Private[int]
    to_pk: strawberry.Private[int]
    work_order_pk: strawberry.Private[int]
    quantity: Decimal
    uom: str
    level: int = strawberry.field(description="1 for the edges touching the root")
    reversed: bool

    @strawberry.field(name="from", description="The component lot consumed")
    async def from_lot(self, info: strawberry.Info) -> Lot:
        return await load_lot(info, self.from_pk)

    @strawberry.field(name="to", description="The lot it went into")
    async def to_lot(self, info: strawberry.Info) -> Lot:
        return await load_lot(info, self.to_pk)

    @strawberry.field
    async def work_order(self, info: strawberry.Info) -> WorkOrder:
        return WorkOrder.from_row(await info.context.loaders.by_id(models.WorkOrder).load(self.work_order_pk))

    @strawberry.field(description="The postings behind this edge, oldest first")
    async def postings(self, info: strawberry.Info) -> list[FlushPosting]:
        rows = await info.context.loaders.by_id(models.LedgerEntry).load_many(self.posting_pks)
        return [FlushPosting.from_row(row) for row in rows]

    @classmethod
    def from_edge(cls, edge: LotLink) -> "GenealogyEdge":
        return cls(posting_pks=edge.ledger_entry_ids, from_pk=edge.from_lot_id, to_pk=edge.to_lot_id,
                   work_order_pk=edge.work_order_id,
                   quantity=edge.quantity, uom=edge.uom, level=edge.level, reversed=edge.reversed)


@strawberry.type
class GenealogyTree:
    root_pk: strawberry.Private[int]
    lot_pks: strawberry.Private[tuple[int, ...]]
    direction: GenealogyDirection
    edges: list[GenealogyEdge]
    truncated: bool = strawberry.field(description="Edges exist beyond maxDepth")

    @strawberry.field
    async def root(self, info: strawberry.Info) -> Lot:
        return await load_lot(info, self.root_pk)

    @strawberry.field(description="The root first, then each lot at the first level it appears")
    async def lots(self, info: strawberry.Info) -> list[Lot]:
        rows = await info.context.loaders.by_id(models.Lot).load_many(self.lot_pks)
        return [Lot.from_row(row) for row in rows]

    @classmethod
    def from_tree(cls, tree: Tree) -> "GenealogyTree":
        return cls(root_pk=tree.root_lot_id, lot_pks=tree.lot_ids, direction=GenealogyDirection(tree.direction),
                   edges=[GenealogyEdge.from_edge(edge) for edge in tree.edges], truncated=tree.truncated)
