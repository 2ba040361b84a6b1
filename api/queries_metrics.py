"""The backflushMetrics query."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from api.permissions import guarded
from api.types.masterdata import Item
from backflush.reads.metrics import backflush_metrics


@strawberry.type
class BackflushMetrics:
    triggers: int
    blocked: int
    reversed: int
    exception_rate: Decimal = strawberry.field(description="(blocked + reversed) ÷ triggers, in percent")
    mean_time_to_correction_seconds: Decimal | None = strawberry.field(
        description="Mean time from a trigger's first block to its successful post")
    genealogy_completeness: Decimal = strawberry.field(
        description="% of produced output lots whose every BACKFLUSH/SCAN_ISSUE line links a component lot")
    return_to_stock_compliance: Decimal | None = strawberry.field(
        description="% of orders closed in the period whose residuals were all returned with scans")
    usage_variance_by_work_center: list[WorkCenterVariance] = strawberry.field(
        description="Usage variance of the orders closed in the period, per work center and component")


@strawberry.type
class WorkCenterVariance:
    work_center: str | None = strawberry.field(description="Null where the consuming operation names none")
    component: Item
    standard_quantity: Decimal
    actual_quantity: Decimal
    usage_variance: Decimal
    variance_percent: Decimal | None

    @classmethod
    def from_row(cls, row) -> "WorkCenterVariance":
        return cls(work_center=row.work_center, component=Item.from_row(row.item), standard_quantity=row.standard_quantity,
                   actual_quantity=row.actual_quantity, usage_variance=row.usage_variance,
                   variance_percent=row.variance_percent)


@strawberry.type
class MetricsQueries:
    @strawberry.field(**guarded("reports:read"))
    async def backflush_metrics(
        self, info: strawberry.Info, from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> BackflushMetrics:
        metrics = await info.context.read(lambda s: backflush_metrics(s, info.context.principal, since=from_, until=to))
        by_work_center = [WorkCenterVariance.from_row(row) for row in metrics.usage_variance_by_work_center]
        return BackflushMetrics(**{**metrics.__dict__, "usage_variance_by_work_center": by_work_center})
