"""Usage variance by work center (SPEC §9): each variance row belongs to the operation that consumes
its BOM line (a line without an operation is consumed at the last one), and so to that operation's
work center. Three statements for any number of orders.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from backflush.core.variances import variance_percent
from models import BomLine, ComponentVariance, Item, WorkOrder, WorkOrderOperation


@dataclass(frozen=True)
class WorkCenterVariance:
    work_center: str | None  # None: the operation names no work center
    item: Item  # the component
    standard_quantity: Decimal
    actual_quantity: Decimal
    usage_variance: Decimal
    variance_percent: Decimal | None


def work_center_variances(session: Session, closed_orders) -> list[WorkCenterVariance]:
    """`closed_orders`: a subquery of the work order ids to count."""
    last_seq = (select(func.max(col(WorkOrderOperation.seq)))
                .where(col(WorkOrderOperation.work_order_id) == col(WorkOrder.id))
                .correlate(WorkOrder).scalar_subquery())
    seq = func.coalesce(col(BomLine.operation_seq), last_seq)
    statement = (select(col(WorkOrderOperation.work_center), col(ComponentVariance.component_id),
                        col(ComponentVariance.standard_quantity), col(ComponentVariance.actual_quantity),
                        col(ComponentVariance.usage_variance))
                 .join(WorkOrder, col(WorkOrder.id) == col(ComponentVariance.work_order_id))
                 .outerjoin(BomLine, and_(col(BomLine.bom_id) == col(WorkOrder.bom_id),
                                          col(BomLine.line_no) == col(ComponentVariance.line_no)))
                 .outerjoin(WorkOrderOperation, and_(col(WorkOrderOperation.work_order_id) == col(WorkOrder.id),
                                                     col(WorkOrderOperation.seq) == seq))
                 .where(col(ComponentVariance.work_order_id).in_(closed_orders)))
    sums: dict[tuple[str | None, int], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for work_center, component_id, standard, actual, usage in session.execute(statement):
        total = sums[(work_center, component_id)]
        sums[(work_center, component_id)] = [total[0] + standard, total[1] + actual, total[2] + usage]
    items = {i.id: i for i in session.scalars(select(Item).where(col(Item.id).in_(sorted({k[1] for k in sums}))))}
    rows = [WorkCenterVariance(work_center, items[component_id], standard, actual, usage,
                               variance_percent(usage, standard))
            for (work_center, component_id), (standard, actual, usage) in sums.items()]
    return sorted(rows, key=lambda r: (r.work_center or "", r.item.code))
