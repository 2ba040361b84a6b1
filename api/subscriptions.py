"""The triggerOutcomes subscription (graphql-transport-ws only)."""
from __future__ import annotations

from typing import AsyncGenerator

import anyio
import strawberry

from api.ids import pk_of
from api.permissions import guarded
from api.types.triggers import Trigger
from backflush.reads import records as reads

POLL_SECONDS = 0.25


@strawberry.type
class Subscription:
    @strawberry.subscription(**guarded("triggers:write", "production:read"),
                             description="Every trigger outcome (posted or blocked) on the principal's sites, as it happens")
    async def trigger_outcomes(self, info: strawberry.Info,
                               work_order_id: strawberry.ID | None = None) -> AsyncGenerator[Trigger, None]:
        ctx = info.context
        order_pk = pk_of(work_order_id, "WorkOrder") if work_order_id else None
        if work_order_id and order_pk is None:
            return
        position = await ctx.read(reads.audit_position)
        while True:
            position, triggers = await ctx.read(lambda s: reads.trigger_outcomes_after(
                s, ctx.principal, after=position, work_order_id=order_pk))
            for trigger in triggers:
                yield Trigger.from_row(trigger)
            await anyio.sleep(POLL_SECONDS)
