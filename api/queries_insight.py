"""controlSignals and supplierVariances: site-scoped reports (scope reports:read, like backflushMetrics)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.permissions import guarded
from api.queries_genealogy import shape
from api.types.evidence import EvidencePack
from api.types.insight import ControlSignal, SupplierVariance
from backflush.insight.control_limits import window_of
from backflush.insight.evidence import evidence_pack
from backflush.insight.signals import control_signals
from backflush.insight.supplier_variance import supplier_variances
from models.types import utcnow

From = Annotated[datetime | None, strawberry.argument(name="from")]


@strawberry.type
class InsightQueries:
    @strawberry.field(**guarded("reports:read"),
                      description="Closed orders whose usage per unit lies outside mean ± 3 sigma of the previous "
                                  "closed orders")
    async def control_signals(self, info: strawberry.Info, item_code: str | None = None, from_: From = None,
                              to: datetime | None = None) -> list[ControlSignal]:
        window = window_of(info.context.settings)
        rows = await info.context.read(lambda s: control_signals(
            s, info.context.principal, item_code=item_code, since=from_, until=to, window=window))
        return [ControlSignal.from_row(row) for row in rows]

    @strawberry.field(**guarded("audit:read"),
                      description="Everything that shows how usage was posted for one work order (null when not "
                                  "visible, or before the order has an output lot)")
    async def evidence_pack(self, info: strawberry.Info, work_order_id: strawberry.ID) -> EvidencePack | None:
        def read(session):
            pack = evidence_pack(session, info.context.principal, ids.pk_of(work_order_id, "WorkOrder"), at=utcnow())
            if pack is None or pack.genealogy is None:
                return None
            return EvidencePack.from_pack(pack, shape(session, pack.genealogy))
        return await info.context.read(read)

    @strawberry.field(**guarded("reports:read"),
                      description="Usage variance of closed orders attributed to the suppliers of the lots consumed")
    async def supplier_variances(self, info: strawberry.Info, from_: From = None,
                                 to: datetime | None = None) -> list[SupplierVariance]:
        rows = await info.context.read(lambda s: supplier_variances(s, info.context.principal, since=from_, until=to))
        return [SupplierVariance.from_row(row) for row in rows]
