"""The pictures of a work order's evidence: its output lot's genealogy and a control chart per component."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from backflush.insight.control_chart_svg import ChartPoint, control_chart_svg
from backflush.insight.control_limits import ControlWindow, judge
from backflush.insight.genealogy_svg import LotView, genealogy_svg
from backflush.insight.usage_history import closed_order_usage, usage_series
from backflush.reads.genealogy import MAX_DEPTH, backward_tree, forward_tree
from kernel.database import referenced_row
from models import Item, Lot, WorkOrder
from models.stored import stored_id


def order_genealogy_svg(session: Session, work_order: WorkOrder) -> str | None:
    """Backward and forward from the order's output lot; None before the order has one."""
    root = work_order.output_lot_id
    if root is None:
        return None
    backward = backward_tree(session, root_lot_id=root, max_depth=MAX_DEPTH)
    forward = forward_tree(session, root_lot_id=root, max_depth=MAX_DEPTH)
    lot_ids = sorted(set(backward.lot_ids) | set(forward.lot_ids))
    views = {stored_id(lot): LotView(lot.lot_number, code, lot.status) for lot, code in session.execute(
        select(Lot, col(Item.code)).join(Item, col(Item.id) == col(Lot.item_id)).where(col(Lot.id).in_(lot_ids)))}
    return genealogy_svg(root_lot_id=root, backward=backward, forward=forward, lots=views)


def order_control_charts(session: Session, work_order: WorkOrder, window: ControlWindow) -> dict[str, str]:
    """Component code → control chart of the order's product at its site, the order marked."""
    rows = [r for r in closed_order_usage(session, site_ids=[work_order.site_id]) if r.key[1] == work_order.item_id]
    series = usage_series(rows)
    order_ids = {p.work_order_id for points in series.values() for p in points}
    numbers = {order_id: number for order_id, number in session.execute(
        select(col(WorkOrder.id), col(WorkOrder.number)).where(col(WorkOrder.id).in_(sorted(order_ids))))}
    items = {i.id: i for i in session.scalars(select(Item).where(col(Item.id).in_(sorted({k[2] for k in series}))))}
    charts, product = {}, referenced_row(session, Item, work_order.item_id).code
    for key, points in sorted(series.items(), key=lambda kv: items[kv[0][2]].code):
        judged = {point.work_order_id: limits for point, limits in judge(points, window)}
        chart = [ChartPoint(numbers[p.work_order_id], p.usage_per_unit,
                            judged[p.work_order_id].rounded() if p.work_order_id in judged else None,
                            p.work_order_id in judged and not judged[p.work_order_id].lower <= p.usage_per_unit
                            <= judged[p.work_order_id].upper, current=p.work_order_id == work_order.id)
                 for p in points]
        component = items[key[2]]
        charts[component.code] = control_chart_svg(
            title=f"Control chart: {component.code} per unit of {product}, site orders in closing order",
            uom=component.base_uom, points=chart)
    return charts

