"""The served trigger path under cProfile, with every SQL statement of one trigger written out.

    .venv/bin/python bench/profile_served.py [--lines 10] [--triggers 200] [--out /tmp/served.prof]

Creates a scratch database like run.py, starts `backflush serve --workers 1` inside cProfile (this
file run as `--serve`), posts `--triggers` one-unit triggers from one client, stops the server and
prints the top of the profile (cumulative) and the SQL of the last trigger.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SQL_LOG = "BENCH_SQL_LOG"


def serve(argv: list[str]) -> int:
    """Run `backflush serve` in this process under cProfile; log each statement to $BENCH_SQL_LOG."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    out, log_path = argv[0], os.environ.get(SQL_LOG)
    log = open(log_path, "w") if log_path else None  # noqa: SIM115 — written until the process ends
    if log:
        @event.listens_for(Engine, "before_cursor_execute")
        def _log(_conn, _cursor, statement, parameters, _context, executemany):
            log.write(f"{'MANY ' if executemany else ''}{' '.join(statement.split())}\n")

        @event.listens_for(Engine, "commit")
        def _commit(_conn):
            log.write("COMMIT\n-- end\n")
            log.flush()
    import threading

    import anyio.to_thread

    from api.cli import main

    # The services run in anyio's worker threads, which the main thread's profiler does not see: profile
    # each call handed to a thread too (one at a time — the harness posts from one client).
    threaded, busy, run_sync = cProfile.Profile(), threading.Lock(), anyio.to_thread.run_sync

    def profiled(func):
        def call(*args):
            if not busy.acquire(blocking=False):
                return func(*args)
            threaded.enable()
            try:
                return func(*args)
            finally:
                threaded.disable()
                busy.release()
        return call

    async def run_sync_profiled(func, *args, **kwargs):
        return await run_sync(profiled(func), *args, **kwargs)
    anyio.to_thread.run_sync = run_sync_profiled

    def _stop(*_):  # uvicorn re-raises the SIGTERM it caught after shutting down: end here, profile written
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, _stop)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        main(["serve", *argv[1:]])
    finally:
        profiler.disable()
        profiler.dump_stats(out)
        threaded.dump_stats(f"{out}.threads")
    return 0


def run(args: argparse.Namespace) -> None:
    from bench.in_process import one_client_order

    name = f"backflush_profile_{os.getpid()}"
    sql_log = Path(tempfile.gettempdir()) / f"{name}.sql"
    with one_client_order(__file__, [str(args.out)], server_url=args.server_url, name=name, lines=args.lines,
                          triggers=args.triggers, env={SQL_LOG: str(sql_log)}) as post:
        counts = [post(n) for n in range(args.triggers)]
    print("statements of the last trigger:", counts[-1])
    transactions = sql_log.read_text().split("-- end\n")
    print("\nSQL of the last trigger:\n" + transactions[-2])
    for path in (f"{args.out}.threads", str(args.out)):
        print(f"\n=== {path}")
        pstats.Stats(path).sort_stats("cumulative").print_stats(args.top)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--triggers", type=int, default=200)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "served.prof")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432")
    run(parser.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
