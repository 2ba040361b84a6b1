"""Closed orders' usage per good unit, read in a fixed number of statements however many orders exist.

Quantities are summed here, not in SQL: SQLite keeps them as text and its SUM would be a float.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from backflush.insight.control_limits import UsagePoint, per_unit
from models import ComponentVariance, Item, Trigger, WorkOrder, WorkOrderOperation

SeriesKey = tuple[int, int, int]  # site, product item, component item: limits never mix plants or products


@dataclass(frozen=True)
class OrderUsage:
    key: SeriesKey
    work_order_id: int
    closed_at: datetime | None  # None for the order being closed right now: it sorts last
    actual: Decimal
    good: Decimal


def closed_order_usage(session: Session, *, site_ids: list[int] | None, component_code: str | None = None,
                       until: datetime | None = None, closing_order_id: int | None = None) -> list[OrderUsage]:
    """Usage of every closed order (and of `closing_order_id`, closing now), oldest first."""
    included = col(WorkOrder.status) == "CLOSED"
    if closing_order_id is not None:
        included = or_(included, col(WorkOrder.id) == closing_order_id)
    statement = (select(col(WorkOrder.site_id), col(WorkOrder.item_id), col(ComponentVariance.component_id),
                        col(WorkOrder.id), col(WorkOrder.closed_at), col(ComponentVariance.actual_quantity))
                 .join(ComponentVariance, col(ComponentVariance.work_order_id) == col(WorkOrder.id)).where(included))
    if site_ids is not None:
        statement = statement.where(col(WorkOrder.site_id).in_(site_ids))
    if component_code is not None:
        component = aliased(Item)
        statement = statement.join(component, col(component.id) == col(ComponentVariance.component_id)).where(
            col(component.code) == component_code)
    if until is not None:
        statement = statement.where(or_(col(WorkOrder.closed_at) < until, col(WorkOrder.closed_at).is_(None)))
    actual: dict[tuple, Decimal] = defaultdict(Decimal)
    for site_id, product_id, component_id, order_id, closed_at, quantity in session.execute(statement):
        actual[((site_id, product_id, component_id), order_id, closed_at)] += quantity
    good = good_units(session, {order_id for _, order_id, _ in actual})
    rows = [OrderUsage(key, order_id, closed_at, quantity, good.get(order_id, Decimal(0)))
            for (key, order_id, closed_at), quantity in actual.items()]
    return sorted(rows, key=lambda r: (r.closed_at is None, r.closed_at or datetime.min, r.work_order_id))


def good_units(session: Session, order_ids: Iterable[int]) -> dict[int, Decimal]:
    """Good units each order declared at its last operation (posted, non-reversed triggers)."""
    order_ids = sorted(order_ids)
    if not order_ids:
        return {}
    last = (select(func.max(col(WorkOrderOperation.seq)))
            .where(col(WorkOrderOperation.work_order_id) == col(Trigger.work_order_id))
            .correlate(Trigger).scalar_subquery())
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, good in session.execute(select(col(Trigger.work_order_id), col(Trigger.good_quantity)).where(
            col(Trigger.work_order_id).in_(order_ids), col(Trigger.outcome) == "POSTED",
            col(Trigger.reversed).is_(False), col(Trigger.operation_seq) == last)):
        totals[order_id] += good
    return totals


def usage_series(rows: Iterable[OrderUsage]) -> dict[SeriesKey, list[UsagePoint]]:
    """Chronological usage per good unit per series; orders that made nothing good are left out."""
    series: dict[SeriesKey, list[UsagePoint]] = defaultdict(list)
    for row in rows:
        if row.good > 0:
            series[row.key].append(UsagePoint(row.work_order_id, per_unit(row.actual, row.good)))
    return series
