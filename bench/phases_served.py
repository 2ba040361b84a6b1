"""Where a served trigger's wall time goes, phase by phase, without a profiler's distortion.

    .venv/bin/python bench/phases_served.py [--lines 10] [--triggers 300]

Like profile_served.py (a scratch database, one `backflush serve --workers 1` run inside this file,
one client), but each named function of the posting path is wrapped in a wall-clock timer instead:
the table gives the median milliseconds per trigger spent inside each, beside the client's own
round trip, so the gap between them (HTTP, GraphQL, authentication) shows too. Nested phases are
included in their parents' times.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (module, attribute): each is replaced, where the posting path looks it up, by a timed wrapper.
PHASES = (
    ("api.app.Guard", "__call__"),
    ("auth.authenticate.Authenticator", "authenticate"),
    ("api.app.BackflushGraphQL", "execute_single"),
    ("api.context.Context", "run"),
    ("api.mutations.triggers.posting", "submit_trigger"),
    ("backflush.services.posting", "work_order_in_sites"),
    ("backflush.services.posting", "_product"),
    ("backflush.services.posting", "_existing"),
    ("backflush.services.posting", "evaluate"),
    ("backflush.services.trigger_eval", "load_order_facts"),
    ("backflush.services.trigger_facts", "order_operations"),
    ("backflush.services.trigger_facts", "bound_bom"),
    ("backflush.services.trigger_facts", "_bindings"),
    ("backflush.services.trigger_facts", "_conversions"),
    ("backflush.services.trigger_facts", "_planner_bindings"),
    ("backflush.services.trigger_facts", "posted_totals"),
    ("backflush.policies.rules_policy", "versions_in_force_by_kind"),
    ("backflush.policies.rules_policy", "decide"),
    ("backflush.services.trigger_eval", "plan_trigger"),
    ("backflush.services.posting", "book_plan"),
    ("backflush.services.booking", "lock_balances"),
    ("backflush.services.booking", "insert_booked_rows"),
    ("backflush.services.booking", "write_quantities"),
    ("kernel.audit", "record"),
    ("sqlalchemy.orm.session.Session", "flush"),
    ("sqlalchemy.orm.session.Session", "commit"),
)
RESULTS = "BENCH_PHASES_OUT"


def _target(path: str):
    """A module, or a class inside one (`package.module.Class`)."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def serve(argv: list[str]) -> int:
    """`backflush serve` in this process with the phases timed; per-request totals written at exit."""
    times: dict[str, list[float]] = defaultdict(list)
    current: dict[str, float] = defaultdict(float)
    local = threading.local()

    def timed(name, func):
        if inspect.iscoroutinefunction(func):
            async def call_async(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return await func(*args, **kwargs)
                finally:
                    current[name] += time.perf_counter() - started
            return call_async

        def call(*args, **kwargs):
            depth = getattr(local, name, 0)
            setattr(local, name, depth + 1)
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                setattr(local, name, depth)
                if depth == 0:  # a phase that calls itself counts once
                    current[name] += time.perf_counter() - started
                    current[f"{name} CPU"] += time.thread_time() - cpu
        return call

    import api.app
    import api.mutations.triggers  # noqa: F401 — the resolver's module holds the entry point
    for module_path, attribute in PHASES:
        target = _target(module_path)
        setattr(target, attribute, timed(f"{module_path.rpartition('.')[2]}.{attribute}", getattr(target, attribute)))
    guard = api.app.Guard.__call__

    async def per_request(self, scope, receive, send):  # one HTTP request: its phases' totals, if it posted
        current.clear()
        try:
            return await guard(self, scope, receive, send)
        finally:
            if "posting.submit_trigger" in current:
                for name, seconds in current.items():
                    times[name].append(1000 * seconds)
    api.app.Guard.__call__ = per_request

    def _stop(*_):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, _stop)
    from api.cli import main
    try:
        main(["serve", *argv])
    finally:
        with open(os.environ[RESULTS], "w") as out:
            json.dump({"times": times}, out)
    return 0


def run(args: argparse.Namespace) -> None:
    from bench.in_process import one_client_order

    name = f"backflush_phases_{os.getpid()}"
    results = Path(tempfile.gettempdir()) / f"{name}.json"
    client_ms: list[float] = []
    with one_client_order(__file__, [], server_url=args.server_url, name=name, lines=args.lines,
                          triggers=args.triggers + args.warm_up, env={RESULTS: str(results)}) as post:
        for n in range(args.warm_up + args.triggers):
            started = time.perf_counter()
            post(n)
            if n >= args.warm_up:
                client_ms.append(1000 * (time.perf_counter() - started))
    recorded = json.loads(results.read_text())
    times = {name: values[-args.triggers:] for name, values in recorded["times"].items()}
    print(f"{args.lines} lines, {args.triggers} triggers after {args.warm_up} warm-up, one client; "
          "median ms per trigger (nested phases included in their parents)")
    print(f"{'client round trip':<44} {statistics.median(client_ms):8.2f}")
    print(f"{'':<44} {'wall':>8} {'CPU':>8}   (CPU: this thread's, for phases run in one)")
    for name, values in times.items():
        if not name.endswith(" CPU"):
            cpu = times.get(f"{name} CPU")
            print(f"{name:<44} {statistics.median(values):8.2f} {statistics.median(cpu) if cpu else float('nan'):8.2f}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--triggers", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432")
    run(parser.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
