"""The service's Prometheus instruments, each named once; the API exposes them at /metrics.

Several server processes (`backflush serve --workers N`) share them through prometheus-client's
multiprocess mode: PROMETHEUS_MULTIPROC_DIR is set before any worker imports this module (the
serve command does it), each process writes its values to files there, and a scrape sums them.
Gauges therefore say how their per-process values combine (`livesum`: the live processes' total).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from prometheus_client import Counter, Gauge, Histogram, multiprocess
from sqlalchemy import event
from sqlalchemy.engine import Engine

GRAPHQL_SECONDS = Histogram(
    "backflush_graphql_request_duration_seconds",
    "GraphQL queries and mutations by type and root field ((invalid) when the schema has no such field)",
    ["operation_type", "operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
TRIGGERS = Counter("backflush_triggers", "Production triggers received, by the outcome of their first evaluation",
                   ["outcome"])
TRIGGER_RETRIES = Counter("backflush_trigger_retries", "Blocked triggers evaluated again, by the new outcome",
                          ["outcome"])
TRIGGER_REPLAYS = Counter("backflush_trigger_replays", "Triggers sent again with a known idempotency key (nothing posted)")
RULE_DECISION_SECONDS = Histogram(
    "backflush_rule_decision_duration_seconds", "One evaluation of a QA rule set, by kind and engine",
    ["kind", "engine"], buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))
DB_CONNECTIONS = Gauge("backflush_db_pool_connections",
                       "Database connections of the server processes: open, and checked out of the pool now",
                       ["state"], multiprocess_mode="livesum")
DB_POOL_LIMIT = Gauge("backflush_db_pool_limit", "Connections the pools may open (size + overflow), all processes",
                      multiprocess_mode="livesum")


def count_trigger(outcome: str, *, replayed: bool, retry: bool = False) -> None:
    if replayed:
        TRIGGER_REPLAYS.inc()
    else:
        (TRIGGER_RETRIES if retry else TRIGGERS).labels(outcome=outcome).inc()


def watch_pool(engine: Engine) -> int:
    """Follow the engine's pool in DB_CONNECTIONS; returns its limit (for DB_POOL_LIMIT while it serves)."""
    opened, checked_out = DB_CONNECTIONS.labels(state="open"), DB_CONNECTIONS.labels(state="checked_out")
    event.listen(engine, "connect", lambda *_: opened.inc())
    event.listen(engine, "close", lambda *_: opened.dec())
    event.listen(engine, "close_detached", lambda *_: opened.dec())
    event.listen(engine, "checkout", lambda *_: checked_out.inc())
    event.listen(engine, "checkin", lambda *_: checked_out.dec())
    pool = engine.pool
    size = pool.size() if hasattr(pool, "size") else 1
    return size + max(getattr(pool, "_max_overflow", 0), 0)


@contextlib.contextmanager
def serving(engine: Engine) -> Iterator[None]:
    """While an app serves: its pool is counted, and a worker that stops leaves the live gauges."""
    limit = watch_pool(engine)
    DB_POOL_LIMIT.inc(limit)
    try:
        yield
    finally:
        DB_POOL_LIMIT.dec(limit)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(os.getpid())
