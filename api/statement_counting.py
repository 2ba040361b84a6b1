"""Off by default. With BACKFLUSH_COUNT_STATEMENTS=true every HTTP response says how much SQL its request sent,
so the benchmark (bench/run.py) counts statements per served trigger on the server side, through every layer.

`x-sql-statements: statements=48 calls=30 commits=1 checkouts=1` —
- statements: what PostgreSQL executes; an executemany counts once per parameter set (psycopg pipelines
  them in one round trip, but each is a statement), a multi-row INSERT once;
- calls: cursor calls, about one round trip each;
- commits; checkouts: connections taken from the pool (on PostgreSQL each is also a pre-ping `SELECT 1`).
Requests in flight at once never mix: the tally lives in a context variable, which anyio copies into
the worker threads the services run in.
"""
from __future__ import annotations

from collections import Counter
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import ExecuteStyle

HEADER = b"x-sql-statements"
KINDS = ("statements", "calls", "commits", "checkouts")
_tally: ContextVar[Counter | None] = ContextVar("sql_statements", default=None)


def _executed(_connection, _cursor, _statement, parameters, context, executemany) -> None:
    tally = _tally.get()
    if tally is None:
        return
    one_per_row = executemany and context is not None and context.execute_style is ExecuteStyle.EXECUTEMANY
    tally["statements"] += len(parameters) if one_per_row else 1
    tally["calls"] += 1


def _seen(kind: str):
    def count(*_args) -> None:
        tally = _tally.get()
        if tally is not None:
            tally[kind] += 1
    return count


class StatementCounting:
    """ASGI middleware: tally the request's SQL, report it as a response header."""

    def __init__(self, app, *, engine: Engine):
        self.app = app
        event.listen(engine, "before_cursor_execute", _executed)
        event.listen(engine, "commit", _seen("commits"))
        event.listen(engine.pool, "checkout", _seen("checkouts"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tally = Counter()
        token = _tally.set(tally)

        async def send_with_tally(message):
            if message["type"] == "http.response.start":
                value = " ".join(f"{kind}={tally[kind]}" for kind in KINDS)
                message = {**message, "headers": [*message.get("headers", []), (HEADER, value.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_tally)
        finally:
            _tally.reset(token)
