"""Off by default. With BACKFLUSH_COUNT_STATEMENTS=true every HTTP response says how much SQL its request sent,
so the benchmark (bench/run.py) counts statements per served trigger on the server side, through every layer.

`x-sql-statements: execute=28 commit=1 checkout=3` — cursor executions, COMMITs, and pool check-outs
(on PostgreSQL each check-out is also a pre-ping `SELECT 1`). Requests in flight at once never mix:
the tally lives in a context variable, which anyio copies into the worker threads the services run in.
"""
from __future__ import annotations

from collections import Counter
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

HEADER = b"x-sql-statements"
_tally: ContextVar[Counter | None] = ContextVar("sql_statements", default=None)


def _seen(kind: str):
    def count(*_args, **_kwargs) -> None:
        tally = _tally.get()
        if tally is not None:
            tally[kind] += 1
    return count


class StatementCounting:
    """ASGI middleware: tally the request's SQL, report it as a response header."""

    def __init__(self, app, *, engine: Engine):
        self.app = app
        event.listen(engine, "before_cursor_execute", _seen("execute"))
        event.listen(engine, "commit", _seen("commit"))
        event.listen(engine.pool, "checkout", _seen("checkout"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tally = Counter()
        token = _tally.set(tally)

        async def send_with_tally(message):
            if message["type"] == "http.response.start":
                value = " ".join(f"{kind}={tally[kind]}" for kind in ("execute", "commit", "checkout"))
                message = {**message, "headers": [*message.get("headers", []), (HEADER, value.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_tally)
        finally:
            _tally.reset(token)
