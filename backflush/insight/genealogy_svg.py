"""The genealogy of a lot as an SVG picture: what went into it (left) and where it went (right).

Columns are levels: the root in the middle, backward levels to the left, forward levels to the
right. Each lot is a box coloured by its status and labelled with lot number, item and status; each
edge is an arrow with its quantity, dashed red and marked "reversed" when it was reversed.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from backflush.insight import svg
from backflush.reads.genealogy import Tree

STATUS_COLOURS = {"RELEASED": "#d8f0d8", "QUARANTINE": "#fff1c2", "ON_HOLD": "#ffd9b3", "REJECTED": "#f7c6c6"}
BOX_W, BOX_H, COL_GAP, ROW_GAP, MARGIN = 170, 54, 90, 22, 30


@dataclass(frozen=True)
class LotView:
    lot_number: str
    item_code: str
    status: str


def genealogy_svg(*, root_lot_id: int, backward: Tree | None, forward: Tree | None, lots: dict[int, LotView]) -> str:
    columns = _columns(root_lot_id, backward, forward)
    rows = max(len(ids) for ids in columns.values())
    first = min(columns)
    width = max(720, MARGIN * 2 + len(columns) * BOX_W + (len(columns) - 1) * COL_GAP)
    height = MARGIN * 2 + 24 + rows * BOX_H + (rows - 1) * ROW_GAP
    root = lots[root_lot_id].lot_number
    picture = svg.canvas(width, height, f"Genealogy of lot {root}: backward (left) and forward (right)")
    svg.text(picture, MARGIN, MARGIN, f"Lot {root}: consumed lots left, lots made from it right; dashed red: reversed",
             font_weight="bold")
    places = {lot_id: (MARGIN + (column - first) * (BOX_W + COL_GAP), MARGIN + 24 + row * (BOX_H + ROW_GAP))
              for column, ids in columns.items() for row, lot_id in enumerate(ids)}
    edges = svg.group(picture, class_="edges")
    parallel: Counter[tuple[int, int]] = Counter()
    for tree in (t for t in (backward, forward) if t is not None):
        for edge in tree.edges:
            pair = (edge.from_lot_id, edge.to_lot_id)
            _edge(edges, places[edge.from_lot_id], places[edge.to_lot_id], edge, offset=12 * parallel[pair])
            parallel[pair] += 1
    for lot_id, (x, y) in places.items():
        _box(picture, x, y, lots[lot_id], root=lot_id == root_lot_id)
    return svg.render(picture)


def _columns(root_lot_id: int, backward: Tree | None, forward: Tree | None) -> dict[int, list[int]]:
    """Column of each lot: 0 for the root, −level backward, +level forward; each lot once, nearest first."""
    column_of = {root_lot_id: 0}
    for tree, sign, far in ((backward, -1, "from_lot_id"), (forward, 1, "to_lot_id")):
        for edge in sorted(tree.edges if tree else (), key=lambda e: (e.level, e.from_lot_id, e.to_lot_id, e.work_order_id)):
            column_of.setdefault(getattr(edge, far), sign * edge.level)
    columns: dict[int, list[int]] = {}
    for lot_id, column in column_of.items():
        columns.setdefault(column, []).append(lot_id)
    return dict(sorted(columns.items()))


def _box(parent, x: float, y: float, lot: LotView, *, root: bool) -> None:
    box = svg.group(parent, class_="lot", data_lot=lot.lot_number, data_status=lot.status)
    svg.tooltip(box, f"lot {lot.lot_number} of {lot.item_code}: {lot.status}")
    svg.rect(box, x, y, BOX_W, BOX_H, rx=6, fill=STATUS_COLOURS.get(lot.status, "#eeeeee"),
             stroke="#222" if root else "#777", stroke_width=2.5 if root else 1)
    svg.text(box, x + 8, y + 18, lot.lot_number, font_weight="bold")
    svg.text(box, x + 8, y + 34, lot.item_code)
    svg.text(box, x + 8, y + 48, lot.status, font_size=10, fill="#333")


def _edge(parent, source: tuple[float, float], target: tuple[float, float], edge, *, offset: float) -> None:
    """`offset` separates edges between the same two lots (linked by two work orders)."""
    (sx, sy), (tx, ty) = (source[0], source[1] + offset - 8), (target[0], target[1] + offset - 8)
    x1, y1 = (sx + BOX_W, sy + BOX_H / 2) if sx < tx else (sx, sy + BOX_H / 2)
    x2, y2 = (tx, ty + BOX_H / 2) if sx < tx else (tx + BOX_W, ty + BOX_H / 2)
    colour = "#c62828" if edge.reversed else "#555"
    link = svg.group(parent, class_="edge reversed" if edge.reversed else "edge", data_reversed=str(edge.reversed).lower())
    svg.line(link, x1, y1, x2, y2, stroke=colour, stroke_width=1.5, stroke_dasharray="6 4" if edge.reversed else None)
    svg.polyline(link, [(x2 - 8, y2 - 4), (x2, y2), (x2 - 8, y2 + 4)], fill="none", stroke=colour, stroke_width=1.5)
    label = f"{edge.quantity:f} {edge.uom}" + (" reversed" if edge.reversed else "")
    svg.text(link, (x1 + x2) / 2 - 30, (y1 + y2) / 2 - 6, label, font_size=10, fill=colour)
