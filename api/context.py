"""The per-request context: sessions, the principal, loaders. Resolvers never share a session."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from api.loaders import Loaders
from auth.principal import Principal
from backflush.services.commands import command
from backflush.services.posting import default_policy
from kernel.errors import DomainError
from kernel.settings import Settings


@dataclass
class Context:
    sessions: sessionmaker[Session]
    principal: Principal
    settings: Settings
    loaders: Loaders
    request: Any = None
    response: Any = None
    connection_params: dict | None = None  # websocket connection_init payload
    # The ids of the caller's sites, once read for this request (api/walls.py; never for a caller of every
    # site), and the read in flight that the first object of a sited type started.
    site_ids: frozenset[int] | None = None
    site_ids_read: asyncio.Future[frozenset[int]] | None = None
    deadline: Any = None  # the query's asyncio.Timeout (api/query_limits.py); a mutation lifts it

    def flush_policy(self):
        return default_policy()

    async def run(self, action: Callable[[], Any]) -> tuple[Any, list[DomainError]]:
        """Run a service that owns its transactions (posting retries a lost idempotency race)."""
        try:
            return await anyio.to_thread.run_sync(action), []
        except DomainError as error:
            return None, list(getattr(error, "errors", [error]))

    async def read(self, query: Callable[[Session], Any]) -> Any:
        """Run a read in a worker thread with a session of its own.

        A read left behind by a stopped query (QUERY_TIMEOUT) finishes on its own and is discarded."""
        def run():
            with self.sessions() as session:
                return query(session)
        return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)

    async def execute(self, action: Callable[[Session, Principal], Any]) -> tuple[Any, list[DomainError]]:
        """Run one domain command in one transaction; expected refusals come back as data."""
        def run():
            with command(self.sessions, self.principal) as session:
                result = action(session, self.principal)
                session.commit()
                return result
        try:
            return await anyio.to_thread.run_sync(run), []
        except DomainError as error:
            return None, list(getattr(error, "errors", [error]))
