"""PostgreSQL LISTEN, one connection per process and channel, fanned out to the waiters in that process.

Notifications are wake-ups, never data: a waiter that wakes reads what changed from the database, from
the position it read up to. So a notification lost (a dropped listener connection, a waiter busy when
two arrive) costs nothing but latency — the listener wakes every waiter when it reconnects — and one
arriving twice costs one empty read.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)
TRIGGER_OUTCOMES = "backflush_trigger_outcomes"  # sent by the audit table's row trigger (migration 0011)
RECONNECT_SECONDS = 1.0


class Waiter:
    """Counts the wake-ups it was sent; `wait_past(n)` returns once the count exceeds n."""

    def __init__(self) -> None:
        self.count = 0
        self._event = asyncio.Event()

    def wake(self) -> None:
        self.count += 1
        self._event.set()

    async def wait_past(self, seen: int) -> None:
        while self.count <= seen:
            self._event.clear()
            await self._event.wait()


class Listener:
    """One LISTEN connection on one channel, alive while someone waits (all in one event loop)."""

    def __init__(self, conninfo: str, channel: str):
        self.conninfo, self.channel = conninfo, channel
        self.waiters: set[Waiter] = set()
        self.listening = asyncio.Event()  # set while LISTEN is in force
        self._task: asyncio.Task | None = None

    @asynccontextmanager
    async def waiter(self) -> AsyncIterator[Waiter]:
        """A waiter, registered once LISTEN is in force: whatever commits after this returns wakes it."""
        waiter = Waiter()
        self.waiters.add(waiter)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())
        try:
            await self.listening.wait()
            yield waiter
        finally:
            self.waiters.discard(waiter)
            if not self.waiters and self._task is not None:
                self._task.cancel()
                self._task = None

    def _wake_all(self) -> None:
        for waiter in list(self.waiters):
            waiter.wake()

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as connection:
                    await connection.execute(f'LISTEN "{self.channel}"')
                    self.listening.set()
                    self._wake_all()  # anything committed while we were not listening is read now
                    async for _ in connection.notifies():
                        self._wake_all()
            except asyncio.CancelledError:
                self.listening.clear()
                raise
            except Exception as error:  # noqa: BLE001 — the database went away: listen again
                self.listening.clear()
                log.warning("LISTEN %s lost (%s); reconnecting in %ss", self.channel, error, RECONNECT_SECONDS)
                await asyncio.sleep(RECONNECT_SECONDS)


_listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], Listener]] = \
    weakref.WeakKeyDictionary()


def listener(url: URL, channel: str) -> Listener | None:
    """This event loop's listener for `channel` on the database at `url`; None where there is no NOTIFY."""
    if url.get_backend_name() != "postgresql":
        return None
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    mine = _listeners.setdefault(asyncio.get_running_loop(), {})
    if (conninfo, channel) not in mine:
        mine[(conninfo, channel)] = Listener(conninfo, channel)
    return mine[(conninfo, channel)]
