"""Genealogy (SPEC §5): which component lots went into which output lots, and how complete that record is.

An edge is a component lot (`from`) consumed into an output lot (`to`). The backward tree of a
finished lot walks edges towards their `from` side (what is in it); the forward tree of a component
lot walks towards their `to` side (where it went: the recall query). Each tree is one SQL statement.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, FromClause, Integer, Select, bindparam, inspect, literal_column, select, true
from sqlalchemy.orm import Session
from sqlmodel import col

from models import BomLine, GenealogyEdge, LedgerEntry, Lot, Trigger, WorkOrder

BACKWARD, FORWARD = "BACKWARD", "FORWARD"
DEFAULT_DEPTH = 10
MAX_DEPTH = 50
FLUSHED_METHODS = ("BACKFLUSH", "SCAN_ISSUE")
ISSUE_KINDS = ("BACKFLUSH_ISSUE", "SCAN_ISSUE")
HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")

# (near, far): the walk arrives at a lot on an edge's near side and continues from its far side.
SIDES = {BACKWARD: ("to_lot_id", "from_lot_id"), FORWARD: ("from_lot_id", "to_lot_id")}


# The columns of a row of the walk (see _tree_statement), in order: one posting's link, met at `level` (1 = the
# edges touching the root); a caller's lot columns may follow.
EDGE_ID, FROM_LOT, TO_LOT, QUANTITY, UOM, WORK_ORDER, LEVEL, REVERSED, POSTING = range(9)
WALK_WIDTH = 9
FAR_COLUMN = {BACKWARD: FROM_LOT, FORWARD: TO_LOT}


class LotLink(NamedTuple):
    """What a tree shows: one link per component lot, output lot and work order, however many postings made it.

    `quantity` sums the unreversed postings; once every posting is reversed, `reversed` is true and
    `quantity` is what they had taken.
    """
    from_lot_id: int
    to_lot_id: int
    work_order_id: int
    quantity: Decimal
    uom: str
    level: int
    reversed: bool
    ledger_entry_ids: tuple[int, ...]  # the postings behind it, oldest first


@dataclass(frozen=True)
class Tree:
    root_lot_id: int
    direction: str
    lot_ids: tuple[int, ...]  # the root first, then each lot at the first level it appears
    edges: tuple[LotLink, ...]
    truncated: bool  # edges exist beyond max_depth


def backward_tree(session: Session, *, root_lot_id: int, max_depth: int | None = DEFAULT_DEPTH,
                  include_reversed: bool = True) -> Tree:
    """What is in `root_lot_id`, every level down."""
    return _tree(session, BACKWARD, root_lot_id, bounded_depth(max_depth), include_reversed)


def forward_tree(session: Session, *, root_lot_id: int, max_depth: int | None = DEFAULT_DEPTH,
                 include_reversed: bool = True) -> Tree:
    """Where `root_lot_id` went, every level up."""
    return _tree(session, FORWARD, root_lot_id, bounded_depth(max_depth), include_reversed)


def tree_and_far_lots(session: Session, direction: str, *, root_lot_id: int, max_depth: int | None,
                      include_reversed: bool, lot_columns: tuple[str, ...]) -> tuple[Tree, dict[int, Sequence]]:
    """The tree, and `lot_columns` (the first being `id`) of every lot its edges reach, by id, read by the walk's own
    statement: for a caller that shows the lots, one statement fewer, and no list of a thousand ids to send back.
    The root is not among them unless an edge reaches it (a cycle)."""
    depth = bounded_depth(max_depth)
    lateral = session.get_bind().dialect.name == "postgresql"
    rows = session.execute(_tree_statement(direction, include_reversed, lot_columns, lateral),
                           {"root_lot_id": root_lot_id, "depth": depth}).all()
    lots: dict[int, Sequence] = {row[WALK_WIDTH]: row[WALK_WIDTH:] for row in rows}
    return shape_rows(direction, root_lot_id, rows, depth), lots


def bounded_depth(max_depth: int | None) -> int:
    """None means the default; anything else is held within 1..MAX_DEPTH rather than refused."""
    return DEFAULT_DEPTH if max_depth is None else max(1, min(max_depth, MAX_DEPTH))


def _tree(session: Session, direction: str, root_lot_id: int, depth: int, include_reversed: bool) -> Tree:
    rows = session.execute(_tree_statement(direction, include_reversed), {"root_lot_id": root_lot_id, "depth": depth}).all()
    return shape_rows(direction, root_lot_id, rows, depth)


@cache
def _tree_statement(direction: str, include_reversed: bool, lot_columns: tuple[str, ...] = (),
                    lateral: bool = False) -> Select:
    """The recursive walk from the lot `:root_lot_id`, carrying every column an edge shows, walked one level
    past `:depth`, each row followed by `lot_columns` of the lot on the edge's far side. Built once per
    direction, reversal choice, lot columns and join: building and keying a recursive statement costs more
    than running it.

    With `lateral` (PostgreSQL), each row's lot is looked up by its key, one index probe per row, whatever
    the planner guesses of the walk's size. As a plain join, PostgreSQL estimated a 55-edge recall at
    1,647 rows and merged it with the whole lot index (40,000 entries: 10 ms instead of 0.5, growing with
    the lot table, issue 12). `OFFSET 0` keeps the subquery from being flattened back into that join.
    SQLite has no LATERAL, and its joins are index probes anyway.

    UNION (not UNION ALL) drops a row already produced, so paths that meet again (diamonds) merge
    instead of multiplying, and the work is bounded by edges × levels; a cycle simply recurs at
    ever higher levels until the depth bound stops it. An edge met at several levels (a cycle, or
    paths of unequal length) belongs at its shallowest: the rows come ordered by level, and
    `shape_rows` keeps each edge's first. Carrying the columns in the walk spares a join back to
    the edges and a GROUP BY over the walk.
    """
    near, far = SIDES[direction]
    edges = inspect(GenealogyEdge).local_table  # Core, not the ORM entity: plain rows, no ORM result
    first, later = edges.alias("first_edge"), edges.alias("later_edge")

    def columns(edge: FromClause, level: ColumnElement[int]) -> tuple[ColumnElement, ...]:
        return (edge.c.id.label("edge_id"), edge.c.from_lot_id, edge.c.to_lot_id, edge.c.quantity, edge.c.uom,
                edge.c.work_order_id, level.label("level"), edge.c.reversed, edge.c.ledger_entry_id)

    anchor = select(*columns(first, literal_column("1", Integer))).where(
        first.c[near] == bindparam("root_lot_id", type_=Integer))
    if not include_reversed:
        anchor = anchor.where(first.c.reversed.is_(False))
    walk = anchor.cte("genealogy_walk", recursive=True)
    step = (select(*columns(later, walk.c.level + 1))
            .join(walk, later.c[near] == walk.c[far])
            .where(walk.c.level <= bindparam("depth", type_=Integer)))
    if not include_reversed:
        step = step.where(later.c.reversed.is_(False))
    walk = walk.union(step)
    statement = select(walk).order_by(walk.c.level, walk.c.edge_id)
    if lot_columns:
        lots = inspect(Lot).local_table
        if lateral:
            far_lot = (select(*(lots.c[name] for name in lot_columns)).where(lots.c.id == walk.c[far])
                       .offset(literal_column("0")).lateral("far_lot"))
            statement = statement.add_columns(*far_lot.c).join(far_lot, true())
        else:
            statement = statement.add_columns(*(lots.c[name] for name in lot_columns)).join(lots, lots.c.id == walk.c[far])
    return statement


def shape_rows(direction: str, root_lot_id: int, rows: Iterable[Sequence], depth: int) -> Tree:
    """The tree of the walk's rows, in one pass (they come by level, then edge id): each edge at the shallowest
    level the walk met it, kept within `depth` (an edge first met one level deeper means the tree was cut
    short), and the postings merged into one link per (component lot, output lot, work order, uom), in the
    order their first edge came."""
    far = FAR_COLUMN[direction]
    seen: set[int] = set()
    lot_ids = {root_lot_id: None}
    groups: dict[tuple, Sequence | _Rows] = {}  # a link's one row (most links), or its rows
    truncated = False
    for row in rows:
        if row[EDGE_ID] in seen:
            continue
        seen.add(row[EDGE_ID])
        if row[LEVEL] > depth:
            truncated = True
            continue
        lot_ids[row[far]] = None
        key = (row[FROM_LOT], row[TO_LOT], row[WORK_ORDER], row[UOM])
        group = groups.get(key)
        if group is None:
            groups[key] = row
        elif type(group) is _Rows:
            group.append(row)
        else:
            groups[key] = _Rows((group, row))
    return Tree(root_lot_id=root_lot_id, direction=direction, lot_ids=tuple(lot_ids),
                edges=tuple([_link(group) for group in groups.values()]), truncated=truncated)


class _Rows(list):
    """The rows of a link of several postings (a row itself may be any sequence, a list included)."""


def _link(group: Sequence | _Rows) -> LotLink:
    if type(group) is not _Rows:  # one posting
        return LotLink._make((group[FROM_LOT], group[TO_LOT], group[WORK_ORDER], group[QUANTITY], group[UOM],
                              group[LEVEL], group[REVERSED], (group[POSTING],)))
    first = group[0]
    live = [row for row in group if not row[REVERSED]]
    return LotLink(from_lot_id=first[FROM_LOT], to_lot_id=first[TO_LOT], work_order_id=first[WORK_ORDER],
                   quantity=sum((row[QUANTITY] for row in live or group), Decimal(0)), uom=first[UOM],
                   level=min(row[LEVEL] for row in group), reversed=not live,
                   ledger_entry_ids=tuple(sorted(row[POSTING] for row in group)))


def genealogy_completeness(session: Session, *, site_ids: Iterable[int] | None = None) -> Decimal:
    """% of output lots whose every BACKFLUSH/SCAN_ISSUE line has a non-reversed linked component lot.

    Only work orders with a posted, unreversed trigger count: an order that produced nothing owes no
    genealogy yet.
    """
    produced = _produced_orders(site_ids)
    orders = session.execute(select(produced.c.id, produced.c.output_lot_id, produced.c.bom_id)).all()
    required: dict[int, set[int]] = {}
    for bom_id, line_no in session.execute(
            select(col(BomLine.bom_id), col(BomLine.line_no)).where(
                col(BomLine.posting_method).in_(FLUSHED_METHODS), col(BomLine.bom_id).in_(select(produced.c.bom_id)))):
        required.setdefault(bom_id, set()).add(line_no)
    linked = {(work_order_id, line_no) for work_order_id, line_no in session.execute(
        select(col(LedgerEntry.work_order_id), col(LedgerEntry.bom_line_no)).distinct()
        .join(GenealogyEdge, col(GenealogyEdge.ledger_entry_id) == col(LedgerEntry.id))
        .where(col(LedgerEntry.kind).in_(ISSUE_KINDS), col(GenealogyEdge.reversed).is_(False),
               col(LedgerEntry.work_order_id).in_(select(produced.c.id))))}
    return completeness_percent(orders, required, linked)


def _produced_orders(site_ids: Iterable[int] | None):
    posted = select(col(Trigger.id)).where(col(Trigger.work_order_id) == col(WorkOrder.id),
                                           col(Trigger.outcome) == "POSTED", col(Trigger.reversed).is_(False))
    statement = (select(col(WorkOrder.id), col(WorkOrder.output_lot_id), col(WorkOrder.bom_id))
                 .where(col(WorkOrder.output_lot_id).is_not(None), posted.exists()))
    if site_ids is not None:
        statement = statement.where(col(WorkOrder.site_id).in_(list(site_ids)))
    return statement.subquery("produced_orders")


def completeness_percent(orders: Iterable[tuple[int, int, int]], required: Mapping[int, set[int]],
                         linked: set[tuple[int | None, int | None]]) -> Decimal:
    """`orders` are (work_order_id, output_lot_id, bom_id); a lot made by several orders needs all complete.
    `linked` holds the (work_order_id, bom_line_no) of issues with a live edge (nullable ledger columns).

    With no output lots there is nothing incomplete: 100.
    """
    complete: dict[int, bool] = {}
    for work_order_id, lot_id, bom_id in orders:
        lines_linked = all((work_order_id, line_no) in linked for line_no in required.get(bom_id, ()))
        complete[lot_id] = complete.get(lot_id, True) and lines_linked
    if not complete:
        return HUNDRED.quantize(PERCENT_PLACES)
    share = HUNDRED * sum(complete.values()) / len(complete)
    return share.quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def within_sites(tree: Tree, site_of_lot: Mapping[int, int], site_ids: Iterable[int]) -> Tree:
    """The tree without the lots of other sites and the edges touching them: a wall is not crossed by walking.
    `site_of_lot` holds the site of every lot of the tree (read with the lots themselves, not again)."""
    sites = set(site_ids)
    kept = {lot_id for lot_id in tree.lot_ids if site_of_lot.get(lot_id) in sites}
    return replace(tree, lot_ids=tuple(i for i in tree.lot_ids if i in kept),
                   edges=tuple(e for e in tree.edges if e.from_lot_id in kept and e.to_lot_id in kept))
