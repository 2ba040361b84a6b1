"""The backflushMetrics query."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from api.permissions import guarded
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


@strawberry.type
class MetricsQueries:
    @strawberry.field(**guarded("reports:read"))
    async def backflush_metrics(
        self, info: strawberry.Info, from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> BackflushMetrics:
        metrics = await info.context.read(lambda s: backflush_metrics(s, info.context.principal, since=from_, until=to))
        return BackflushMetrics(**metrics.__dict__)
