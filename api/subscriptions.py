"""The triggerOutcomes subscription (graphql-transport-ws only).

On PostgreSQL it is pushed: the process's one LISTEN connection wakes it when an outcome commits
(kernel.notifications, migration 0011), in whichever server process that happened; it then reads the
audit trail from its position, so nothing is lost or delivered twice. SQLite has no NOTIFY: it polls.
"""
from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import strawberry

from api.ids import pk_of
from api.permissions import guarded
from api.types.production import Trigger
from backflush.reads import records as reads
from kernel import notifications

POLL_SECONDS = 0.25  # SQLite only


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
        feed = notifications.listener(ctx.sessions.kw["bind"].url, notifications.TRIGGER_OUTCOMES)

        async def read_after(position):
            return await ctx.read(lambda s: reads.trigger_outcomes_after(
                s, ctx.principal, after=position, work_order_id=order_pk))

        if feed is None:
            position = await ctx.read(reads.audit_position)
            while True:
                position, triggers = await read_after(position)
                for trigger in triggers:
                    yield Trigger.from_row(trigger)
                await anyio.sleep(POLL_SECONDS)
        async with feed.waiter() as waiter:  # listening before the starting point is read: no gap
            position = await ctx.read(reads.audit_position)
            while True:
                seen = waiter.count
                moved, triggers = await read_after(position)
                for trigger in triggers:
                    yield Trigger.from_row(trigger)
                if moved == position:  # read to the end: sleep until an outcome commits
                    await waiter.wait_past(seen)
                position = moved
