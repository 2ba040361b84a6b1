"""The genealogy query: what is in a lot, or where it went (SPEC §5)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import strawberry
from graphql import GraphQLError
from sqlalchemy import FromClause, Integer, Select, any_, bindparam, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.types import ARRAY
from sqlmodel import SQLModel

import models
from api import ids
from api.permissions import guarded
from api.types.enums import GenealogyDirection
from api.types.genealogy import GenealogyTree
from api.types.inventory import LOT_COLUMNS, Lot
from api.types.production import WORK_ORDER_COLUMNS, WorkOrder
from auth.principal import Principal
from backflush.reads import genealogy
from backflush.reads import records as reads

DESCRIPTION = (f"BACKWARD: what is in the lot; FORWARD: where it went (recall). maxDepth defaults to "
               f"{genealogy.DEFAULT_DEPTH} and is held within 1..{genealogy.MAX_DEPTH}; truncated says edges were cut")
CHUNK = 5000  # ids per IN list: well within SQLite's limit on bound parameters
# What Lot.from_columns and WorkOrder.from_columns read, as Core columns: plain rows, no ORM instances.
READS: dict[type[SQLModel], tuple[str, ...]] = {models.Lot: LOT_COLUMNS, models.WorkOrder: WORK_ORDER_COLUMNS}


@strawberry.type
class GenealogyQueries:
    @strawberry.field(**guarded("genealogy:read"), description=DESCRIPTION)
    async def genealogy(self, info: strawberry.Info, lot_id: strawberry.ID, direction: GenealogyDirection,
                        max_depth: int | None = None, include_reversed: bool = True) -> GenealogyTree:
        context = info.context
        site_ids, shaped = await context.read(lambda s: shaped_tree(
            s, context.principal, lot_pk=ids.pk_of(lot_id, "Lot"), direction=direction,
            max_depth=max_depth, include_reversed=include_reversed))
        if site_ids is not None and context.site_ids is None:
            context.site_ids = frozenset(site_ids)  # the walls need not read them again (api/walls.py)
        if shaped is None:
            raise GraphQLError("lot not found", extensions={"code": "NOT_FOUND"})
        return shaped


def shaped_tree(session: Session, principal: Principal, *, lot_pk: int | None, direction: GenealogyDirection,
                max_depth: int | None, include_reversed: bool) -> tuple[list[int] | None, GenealogyTree | None]:
    """The ids of the principal's sites (None: every site), and the tree within them (None when the root lot is
    unknown or lies outside them) with every lot and work order it names: three statements whatever its size —
    the root lot, the walk carrying the lots it reaches, the work orders."""
    site_ids = reads.visible_site_ids(session, principal)
    if lot_pk is None:
        return site_ids, None
    root = _rows_in(session, models.Lot, {lot_pk})
    if not root or (site_ids is not None and Lot.from_columns(root[0]).site_pk not in site_ids):
        return site_ids, None
    tree, far_lots = genealogy.tree_and_far_lots(session, direction.value, root_lot_id=lot_pk, max_depth=max_depth,
                                                 include_reversed=include_reversed, lot_columns=LOT_COLUMNS)
    far_lots[lot_pk] = root[0]
    return site_ids, shape(session, tree, site_ids=site_ids, lot_rows=far_lots)


def shape(session: Session, tree: genealogy.Tree, *, site_ids: list[int] | None = None,
          lot_rows: Mapping[int, Sequence] | None = None) -> GenealogyTree:
    """The wire tree of `tree` within `site_ids` (None: every site), every lot and work order it names read at
    once (but those of `lot_rows`, LOT_COLUMNS by id, already read); the lots' own rows say which lie outside
    the sites, so the wall costs no statement of its own."""
    lot_rows = lot_rows or {}
    lot_ids = {tree.root_lot_id, *tree.lot_ids, *(e.from_lot_id for e in tree.edges), *(e.to_lot_id for e in tree.edges)}
    rows = [lot_rows[pk] for pk in lot_ids if pk in lot_rows]
    rows += _rows_in(session, models.Lot, {pk for pk in lot_ids if pk not in lot_rows})
    lots = {row[0]: Lot.from_columns(row) for row in rows}
    if site_ids is not None:
        tree = genealogy.within_sites(tree, {pk: lot.site_pk for pk, lot in lots.items()}, site_ids)
    orders = {row[0]: WorkOrder.from_columns(row) for row in _rows_in(session, models.WorkOrder,
                                                                      {e.work_order_id for e in tree.edges})}
    return GenealogyTree.from_tree(tree, lots, orders)


def _rows_in(session: Session, model: type[SQLModel], keys: set[int]) -> list:
    if not keys:
        return []
    ordered = sorted(keys)
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _by_ids(model, postgres)
    if postgres:
        return list(session.execute(statement, {"keys": ordered}).all())
    rows: list[object] = []
    for start in range(0, len(ordered), CHUNK):
        rows.extend(session.execute(statement, {"keys": ordered[start:start + CHUNK]}).all())
    return rows


@cache
def _by_ids(model: type[SQLModel], postgres: bool) -> Select:
    """The rows of `model` whose id is in `:keys`, built once: on PostgreSQL one array parameter, not a
    thousand to bind and parse; elsewhere an IN list expanded per call."""
    table: FromClause = inspect(model).local_table
    statement = select(*(table.c[name] for name in READS[model]))
    if postgres:
        return statement.where(table.c.id == any_(bindparam("keys", type_=ARRAY(Integer))))
    return statement.where(table.c.id.in_(bindparam("keys", expanding=True)))
