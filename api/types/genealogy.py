"""Genealogy trees on the wire: nodes and edges, so clients can draw any shape.

A tree of a thousand edges is shaped in one pass: its lots and work orders are read in a few set-based
statements with the tree itself, and every edge holds its Lot and WorkOrder objects as plain values.
With a resolver (and a DataLoader round trip) per `from`, `to` and `workOrder`, shaping cost ~50 times
the SQL walk (issue 12); the schema is the same.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import strawberry

import models
from api.types.enums import GenealogyDirection
from api.types.inventory import Lot
from api.types.production import FlushPosting, WorkOrder
from backflush.reads.genealogy import Tree


@strawberry.type(description="One per component lot, output lot and work order: quantity sums its unreversed "
                             "postings; reversed once every one of them is reversed")
class GenealogyEdge:
    posting_pks: strawberry.Private[tuple[int, ...]]
    quantity: Decimal
    uom: str
    level: int = strawberry.field(description="1 for the edges touching the root")
    reversed: bool
    from_lot: Lot = strawberry.field(name="from", description="The component lot consumed")
    to_lot: Lot = strawberry.field(name="to", description="The lot it went into")
    work_order: WorkOrder

    @strawberry.field(description="The postings behind this edge, oldest first")
    async def postings(self, info: strawberry.Info) -> list[FlushPosting]:
        rows = await info.context.loaders.by_id(models.LedgerEntry).load_many(self.posting_pks)
        return [FlushPosting.from_row(row) for row in rows]


@strawberry.type
class GenealogyTree:
    direction: GenealogyDirection
    edges: list[GenealogyEdge]
    truncated: bool = strawberry.field(description="Edges exist beyond maxDepth")
    root: Lot
    lots: list[Lot] = strawberry.field(description="The root first, then each lot at the first level it appears")

    @classmethod
    def from_tree(cls, tree: Tree, lots: Mapping[int, Lot], work_orders: Mapping[int, WorkOrder]) -> "GenealogyTree":
        """`lots` and `work_orders` by id hold every lot and order the tree names (see shaped_tree)."""
        edges = [GenealogyEdge(posting_pks=postings, quantity=quantity, uom=uom, level=level, reversed=reversed_,
                               from_lot=lots[from_pk], to_lot=lots[to_pk], work_order=work_orders[order_pk])
                 for from_pk, to_pk, order_pk, quantity, uom, level, reversed_, postings in tree.edges]
        return cls(direction=GenealogyDirection(tree.direction), edges=edges, truncated=tree.truncated,
                   root=lots[tree.root_lot_id], lots=[lots[pk] for pk in tree.lot_ids])
