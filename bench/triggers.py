"""Served triggers over HTTP and floor triggers over psycopg, at one BOM size and one concurrency, checked after."""
from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from api.statement_counting import KINDS
from bench.checks import check_books, check_posted
from bench.floor import FloorClient
from bench.floor_order import load_order
from bench.http_api import GraphQL
from bench.load import Measurement, Post, run_clients
from bench.plant import SizePlant
from bench.server import ScratchDatabase, Server, memory_mb
from bench.wrong_run import WrongRun

POST_TRIGGER = """mutation ($input: PostTriggerInput!) {
  postTrigger(input: $input) { trigger { outcome } replayed userErrors { code message } } }"""
FLOOR_SUBJECT = "client:bench-floor"


@dataclass(frozen=True)
class LoadSettings:
    warm_up: int
    seconds: float
    caps: dict[str, int]  # triggers one order may post, per pool (SRV, FLR)


@dataclass(frozen=True)
class Phase:
    side: str  # served | floor
    lines: int
    measurement: Measurement

    def statements(self) -> dict:
        """Medians per trigger; `total` = statements + COMMITs, what the targets count (see api/statement_counting.py)."""
        notes = self.measurement.notes
        totals = [note["statements"] + note["commits"] for note in notes]
        medians = {kind: statistics.median(note[kind] for note in notes) for kind in KINDS}
        return {**medians, "total": statistics.median(totals), "min": min(totals), "max": max(totals)}


@dataclass
class Context:
    database: ScratchDatabase
    server: Server
    token: str
    sessions: sessionmaker[Session]
    settings: LoadSettings
    peak_rss_mb: dict[int, float] = field(default_factory=dict)  # per worker pid, sampled under load


def served_phase(context: Context, plant: SizePlant, clients: int) -> Phase:
    orders = plant.for_run("SRV", clients)
    apis = [GraphQL(context.server.base_url, context.token) for _ in orders]
    sampler = _RssSampler(context)
    try:
        measurement = run_clients([_served_post(api, order) for api, order in zip(apis, orders, strict=True)],
                                  warm_up=context.settings.warm_up, seconds=context.settings.seconds,
                                  cap=context.settings.caps["SRV"])
    finally:
        sampler.stop()
        for api in apis:
            api.close()
    _check(context, [o.number for o in orders], measurement)
    return Phase("served", plant.lines, measurement)


def floor_phase(context: Context, plant: SizePlant, clients: int) -> Phase:
    orders = plant.for_run("FLR", clients)
    connections = [context.database.connect() for _ in orders]
    try:
        posts = [_floor_post(connection, order.number) for connection, order in zip(connections, orders, strict=True)]
        measurement = run_clients(posts, warm_up=context.settings.warm_up, seconds=context.settings.seconds,
                                  cap=context.settings.caps["FLR"])
    finally:
        for connection in connections:
            connection.close()
    _check(context, [o.number for o in orders], measurement)
    return Phase("floor", plant.lines, measurement)


def _check(context: Context, numbers: list[str], measurement: Measurement) -> None:
    with context.database.connect() as connection:
        check_posted(connection, numbers, context.settings.warm_up * len(numbers) + measurement.triggers)
    check_books(context.sessions)


def _served_post(api: GraphQL, order) -> Post:
    def post(n: int) -> dict:
        response = api.post(POST_TRIGGER, {"input": {"idempotencyKey": f"{order.number}-{n}", "kind": "GOOD_UNITS_DECLARED",
                                                     "workOrderId": order.global_id, "goodQuantity": "1"}})
        body = response.json()
        payload = (body.get("data") or {}).get("postTrigger") or {}
        if response.status_code != 200 or body.get("errors") or payload.get("userErrors") or \
                (payload.get("trigger") or {}).get("outcome") != "POSTED":
            raise WrongRun(f"{order.number} trigger {n} was not POSTED: HTTP {response.status_code} {body}")
        return parse_statement_header(response.headers.get("x-sql-statements", ""))
    return post


def parse_statement_header(value: str) -> dict:
    """`statements=48 calls=30 commits=1 checkouts=1` → {"statements": 48, …}."""
    counts = {kind: int(count) for kind, _, count in (part.partition("=") for part in value.split())}
    if set(counts) != set(KINDS):
        raise WrongRun(f"x-sql-statements is {value!r}: start the server with BACKFLUSH_COUNT_STATEMENTS=true")
    return counts


def _floor_post(connection, number: str) -> Post:
    order_id = connection.execute("SELECT id FROM workorder WHERE number = %s", (number,)).fetchone()[0]
    client = FloorClient(connection, load_order(connection, order_id), subject=FLOOR_SUBJECT)

    def post(n: int) -> dict:
        before = client.statements
        client.post(f"{number}-{n}")
        sent = client.statements - before - 1  # all but the COMMIT; no executemany, no pool
        return {"statements": sent, "calls": sent, "commits": 1, "checkouts": 0}
    return post


class _RssSampler:
    """Resident memory of every worker, five times a second, while a served phase runs."""

    def __init__(self, context: Context, interval: float = 0.2):
        self.context, self.interval, self.done = context, interval, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(self.interval):
            for pid in self.context.server.worker_pids():
                resident, _ = memory_mb(pid)
                self.context.peak_rss_mb[pid] = max(self.context.peak_rss_mb.get(pid, 0.0), resident)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()
