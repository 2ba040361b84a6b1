"""What the floor knows about one work order, read once, and the draws of one trigger on it.

The floor handles the bench's plain BOM only — base-uom lines, no scrap, set-up scrap, yield loss,
alternates or phantoms, quantities exact at the component's precision — and refuses anything else, so
it can never silently draw differently from the server. Draw order is the server's FEFO key
(`backflush.core.allocation.fefo_key`): expiry (none last), received, lot number, binding.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg

ORDER = """SELECT wo.site_id, wo.output_lot_id, wo.output_location_id, wo.item_id, product.base_uom, bom.id,
                  bom.base_quantity, (SELECT max(seq) FROM workorderoperation op WHERE op.work_order_id = wo.id)
           FROM workorder wo JOIN item product ON product.id = wo.item_id JOIN bom ON bom.id = wo.bom_id
           WHERE wo.id = %s"""
LINES = """SELECT line.line_no, line.component_id, component.base_uom, component.precision, line.quantity, line.uom,
                  line.scrap_percent, line.setup_scrap, line.yield_percent, line.posting_method,
                  EXISTS (SELECT 1 FROM bomalternate alt WHERE alt.bom_line_id = line.id), component.phantom
           FROM bomline line JOIN item component ON component.id = line.component_id
           WHERE line.bom_id = %s ORDER BY line.line_no"""
BINDINGS = """SELECT staged.id, staged.lot_id, staged.location_id, staged.remaining_quantity, lot.item_id
              FROM stagedlot staged JOIN lot ON lot.id = staged.lot_id
              WHERE staged.work_order_id = %s AND staged.remaining_quantity > 0 AND lot.status = 'RELEASED'
                AND (lot.expires_on IS NULL OR lot.expires_on >= current_date)
              ORDER BY lot.expires_on IS NULL, lot.expires_on, lot.received_at, lot.lot_number, staged.id::text"""


class FloorUnsupported(Exception):
    """The order's BOM needs planning the floor does not do; measure it against the server only."""


@dataclass
class StagedBinding:
    binding_id: int
    lot_id: int
    location_id: int
    remaining: Decimal  # kept current by the floor client, the order's only writer


@dataclass(frozen=True)
class FloorLine:
    line_no: int
    item_id: int
    uom: str
    per_unit: Decimal  # component base uom per unit of the product
    bindings: tuple[StagedBinding, ...]  # in draw order


@dataclass(frozen=True)
class FloorOrder:
    work_order_id: int
    site_id: int
    operation_seq: int
    output_lot_id: int
    output_location_id: int
    product_item_id: int
    product_uom: str
    lines: tuple[FloorLine, ...]


@dataclass(frozen=True)
class FloorDraw:
    line_no: int
    item_id: int
    uom: str
    binding: StagedBinding
    quantity: Decimal


def load_order(connection: psycopg.Connection, work_order_id: int) -> FloorOrder:
    with connection.cursor() as cursor:
        row = cursor.execute(ORDER, (work_order_id,)).fetchone()
        if row is None or row[1] is None:
            raise FloorUnsupported(f"work order {work_order_id} is unknown or not released")
        site_id, output_lot_id, output_location_id, product_id, product_uom, bom_id, base_quantity, seq = row
        bindings: dict[int, list[StagedBinding]] = {}
        for binding_id, lot_id, location_id, remaining, item_id in cursor.execute(BINDINGS, (work_order_id,)):
            bindings.setdefault(item_id, []).append(StagedBinding(binding_id, lot_id, location_id, remaining))
        lines = tuple(_line(row, base_quantity, bindings) for row in cursor.execute(LINES, (bom_id,)))
    connection.commit()
    return FloorOrder(work_order_id, site_id, seq, output_lot_id, output_location_id, product_id, product_uom, lines)


def _line(row: tuple, base_quantity: Decimal, bindings: dict[int, list[StagedBinding]]) -> FloorLine:
    (line_no, item_id, base_uom, precision, quantity, uom, scrap, setup_scrap, yield_percent, method, has_alternates,
     phantom) = row
    per_unit = quantity / base_quantity
    plain = (uom == base_uom and scrap == 0 and setup_scrap == 0 and yield_percent == 100 and method == "BACKFLUSH"
             and not has_alternates and not phantom and per_unit == round(per_unit, precision))
    if not plain:
        raise FloorUnsupported(f"BOM line {line_no} needs planning the floor does not do")
    return FloorLine(line_no, item_id, base_uom, per_unit, tuple(bindings.get(item_id, ())))


def plan_draws(order: FloorOrder, good: Decimal) -> list[FloorDraw]:
    """Every line's need, drawn first-expiring first from what the order's bindings have left."""
    draws = []
    for line in order.lines:
        need = line.per_unit * good
        for binding in line.bindings:
            if need <= 0:
                break
            take = min(binding.remaining, need)
            if take > 0:
                draws.append(FloorDraw(line.line_no, line.item_id, line.uom, binding, take))
                need -= take
        if need > 0:
            raise RuntimeError(f"floor: line {line.line_no} of work order {order.work_order_id} is short by {need}")
    return draws
