"""controlSignals and supplierVariances: site-scoped reports (scope reports:read, like backflushMetrics)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.permissions import guarded
from api.types.insight import ControlSignal, SupplierVariance
from backflush.insight.signals import control_signals
from backflush.insight.supplier_variance import supplier_variances

From = Annotated[datetime | None, strawberry.argument(name="from")]


@strawberry.type
class InsightQueries:
    @strawberry.field(**guarded("reports:read"),
                      description="Closed orders whose usage per unit lies outside mean ± 3 sigma of the previous "
                                  "closed orders")
    async def control_signals(self, info: strawberry.Info, item_code: str | None = None, from_: From = None,
                              to: datetime | None = None) -> list[ControlSignal]:
        window = info.context.settings.control_window
        rows = await info.context.read(lambda s: control_signals(
            s, info.context.principal, item_code=item_code, since=from_, until=to, window=window))
        return [ControlSignal.from_row(row) for row in rows]

    @strawberry.field(**guarded("reports:read"),
                      description="Usage variance of closed orders attributed to the suppliers of the lots consumed")
    async def supplier_variances(self, info: strawberry.Info, from_: From = None,
                                 to: datetime | None = None) -> list[SupplierVariance]:
        rows = await info.context.read(lambda s: supplier_variances(s, info.context.principal, since=from_, until=to))
        return [SupplierVariance.from_row(row) for row in rows]
