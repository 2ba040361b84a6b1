"""Triggers per second through submit_trigger, against a minimal locking transaction measured in the same run.

    python bench/bench_triggers.py [--database-url postgresql://postgres@127.0.0.1:5432/backflush_bench]
                                   [--lines 5 10 50] [--triggers 200] [--keep]

For every BOM size in --lines: a fresh database (dropped and created; on SQLite the file is replaced),
migrated; one item with that many BACKFLUSH lines, three lots per component staged to one work order;
then --triggers triggers of one unit each, posted one after another. Each posting draws every line
(some from two lots as a lot runs out), receives the output, writes genealogy and the audit row.

The BASELINE is the smallest honest unit of the same shape: one transaction that locks the work order
row (SELECT … FOR UPDATE) and inserts one audit-like row. "cost" = baseline rate ÷ trigger rate: how
many such minimal transactions one trigger is worth on this machine, right now. Ratios travel between
machines; absolute rates do not.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import Connection, Engine, make_url  # noqa: E402

from auth.principal import Principal  # noqa: E402
from backflush.database import build_engine, session_factory  # noqa: E402
from backflush.ledger import check_consistency  # noqa: E402
from backflush.migrations import upgrade  # noqa: E402
from backflush.posting import submit_trigger  # noqa: E402
from backflush.trigger_eval import TriggerInput  # noqa: E402
from models import Trigger, WorkOrder  # noqa: E402
from tests.builders import Plant, line, qa_user  # noqa: E402

LINE_QUANTITY = Decimal("0.25")  # kg of each component per unit
LOTS_PER_COMPONENT = 3
WARM_UP = 5  # triggers (and baseline units) run before the clock starts: caches, pool, plans
BASELINE_TABLE = "bench_baseline_unit"


@dataclass(frozen=True)
class Measurement:
    rate: float  # units per second
    statements: float  # SQL statements per unit
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class Row:
    backend: str
    lines: int
    triggers: int
    posting: Measurement
    baseline: Measurement


class StatementCounter:
    """Counts every statement the engine sends (an executemany counts once)."""

    def __init__(self, engine: Engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


# ---- databases ------------------------------------------------------------------------------------

def default_url() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/backflush_bench_{os.getpid()}"


def recreate(url: str) -> None:
    if url.startswith("sqlite"):
        drop(url)
        return
    with server_connection(url) as (conn, name):
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))


def drop(url: str) -> None:
    if url.startswith("sqlite"):
        path = make_url(url).database
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with server_connection(url) as (conn, name):
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def server_connection(url: str) -> Iterator[tuple[Connection, str]]:
    """An AUTOCOMMIT connection to the server's `postgres` database, and the bench database's name."""
    parsed = make_url(url)
    engine = create_engine(parsed.set(drivername="postgresql+psycopg", database="postgres"),
                           isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn, parsed.database
    finally:
        engine.dispose()


# ---- the plant ------------------------------------------------------------------------------------

def build_plant(sessions, *, lines: int, triggers: int) -> tuple[WorkOrder, Principal]:
    """FG needs `lines` components at 0.25 kg/unit; three lots of each, all staged, cover every trigger."""
    plant = Plant(sessions, qa_user(sessions))
    plant.item("FG", "ea", 0)
    codes = [f"C{n:02d}" for n in range(1, lines + 1)]
    for code in codes:
        plant.item(code, "kg", 3)
    plant.bom("FG", [line(n, code, str(LINE_QUANTITY)) for n, code in enumerate(codes, start=1)])
    units = triggers + WARM_UP
    order = plant.work_order("WO-BENCH", "FG", str(units))
    per_lot = (LINE_QUANTITY * units / LOTS_PER_COMPONENT + 1).quantize(Decimal("1"))
    for code in codes:
        for n in range(1, LOTS_PER_COMPONENT + 1):
            lot = plant.receive(code, f"{code}-L{n}", f"{per_lot}.000")
            plant.stage(order, lot, f"{per_lot}.000")
    return order, plant.principal


# ---- measurements ---------------------------------------------------------------------------------

def timed(units, run_one, counter: StatementCounter) -> Measurement:
    for unit in units[:WARM_UP]:
        run_one(unit)
    latencies, before, started = [], counter.count, time.perf_counter()
    for unit in units[WARM_UP:]:
        t0 = time.perf_counter()
        run_one(unit)
        latencies.append(time.perf_counter() - t0)
    elapsed, measured = time.perf_counter() - started, len(units) - WARM_UP
    quantiles = statistics.quantiles(latencies, n=20)
    return Measurement(rate=measured / elapsed, statements=(counter.count - before) / measured,
                       p50_ms=statistics.median(latencies) * 1000, p95_ms=quantiles[18] * 1000)


def measure_posting(sessions, principal, order: WorkOrder, triggers: int, counter) -> Measurement:
    def post(n: int) -> None:
        request = TriggerInput(idempotency_key=f"bench-{n}", work_order_id=order.id,
                               kind="GOOD_UNITS_DECLARED", good_quantity="1")
        outcome = submit_trigger(sessions, principal, request).trigger.outcome
        if outcome != "POSTED":
            raise SystemExit(f"trigger bench-{n} was {outcome}: the bench plant is short of stock")

    return timed(list(range(triggers + WARM_UP)), post, counter)


def measure_baseline(engine: Engine, sessions, order: WorkOrder, units: int, counter) -> Measurement:
    """One transaction: lock the work order row, insert one audit-like row, commit."""
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {BASELINE_TABLE} (id INTEGER PRIMARY KEY {_autoincrement(engine)}, "
                          "work_order_id INTEGER NOT NULL, actor VARCHAR(120) NOT NULL, "
                          "action VARCHAR(60) NOT NULL, at TIMESTAMP NOT NULL, after TEXT)"))
    insert = text(f"INSERT INTO {BASELINE_TABLE} (work_order_id, actor, action, at, after) "
                  "VALUES (:wo, 'user:bench', 'trigger.posted', CURRENT_TIMESTAMP, :after)")

    def unit(n: int) -> None:
        with sessions() as session:
            session.execute(select(WorkOrder).where(WorkOrder.id == order.id).with_for_update()).scalar_one()
            session.execute(insert, {"wo": order.id, "after": f'{{"n": {n}}}'})
            session.commit()

    return timed(list(range(units + WARM_UP)), unit, counter)


def _autoincrement(engine: Engine) -> str:
    return "GENERATED ALWAYS AS IDENTITY" if engine.dialect.name == "postgresql" else ""


def check_books(sessions, order: WorkOrder, triggers: int) -> None:
    """The figures only count if the work was right: every trigger posted, balance == Σ ledger."""
    with sessions() as s:
        posted = s.scalar(select(func.count()).select_from(Trigger).where(
            Trigger.work_order_id == order.id, Trigger.outcome == "POSTED"))
        problems = check_consistency(s)
    if posted != triggers + WARM_UP or problems:
        raise SystemExit(f"bench run is wrong: {posted} triggers posted, inconsistencies {problems[:3]}")


def bench(url: str, *, lines: int, triggers: int, keep: bool) -> Row:
    recreate(url)
    engine = build_engine(url)
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        order, principal = build_plant(sessions, lines=lines, triggers=triggers)
        counter = StatementCounter(engine)
        posting = measure_posting(sessions, principal, order, triggers, counter)
        baseline = measure_baseline(engine, sessions, order, triggers, counter)
        check_books(sessions, order, triggers)
        return Row(engine.dialect.name, lines, triggers, posting, baseline)
    finally:
        engine.dispose()
        if not keep:
            drop(url)


# ---- report ---------------------------------------------------------------------------------------

HEADER = (f"{'backend':<10} {'lines':>5} {'trig':>5} │ {'trig/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'stmt/trig':>9} │ "
          f"{'base/s':>7} {'stmt/base':>9} │ {'cost ×base':>10} {'stmt ×base':>10}")


def format_row(row: Row) -> str:
    p, b = row.posting, row.baseline
    return (f"{row.backend:<10} {row.lines:>5} {row.triggers:>5} │ {p.rate:>7.1f} {p.p50_ms:>7.1f} {p.p95_ms:>7.1f} "
            f"{p.statements:>9.1f} │ {b.rate:>7.1f} {b.statements:>9.1f} │ {b.rate / p.rate:>10.1f} "
            f"{p.statements / b.statements:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help="postgresql://…/name (dropped and re-created!) or sqlite:///path; "
                             "default: a PostgreSQL database backflush_bench_<pid> on 127.0.0.1")
    parser.add_argument("--lines", type=int, nargs="+", default=[10], help="BOM sizes to run, e.g. --lines 5 10 50")
    parser.add_argument("--triggers", type=int, default=200, help="triggers posted (and baseline units) per size")
    parser.add_argument("--keep", action="store_true", help="leave the last database behind for inspection")
    args = parser.parse_args()
    url = args.database_url or default_url()
    print(f"{args.triggers} triggers of 1 unit per BOM size, serial, one client; after {WARM_UP} warm-up units each")
    print(HEADER)
    for lines in args.lines:
        row = bench(url, lines=lines, triggers=args.triggers, keep=args.keep)
        print(format_row(row), flush=True)
    print("cost ×base = baseline transactions/s ÷ triggers/s, measured in the same run "
          "(baseline: SELECT … FOR UPDATE of the work order + one INSERT + COMMIT)")


if __name__ == "__main__":
    main()
