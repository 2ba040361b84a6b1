"""Issue 12's benchmark: the served API beside the database's floor, rules, genealogy and memory, in one run.

    .venv/bin/python bench/run.py [--only triggers rules genealogy] [--lines 5 10 50] [--clients 1 4]
                                  [--seconds 8] [--workers 2] [--json PATH] [--keep]

Creates a fresh PostgreSQL database (dropped at the end), migrates it, makes the bench's identities
with the `backflush` CLI, starts `backflush serve --workers N` on a free port, builds the plant through
the API and measures over HTTP what a client sees — beside the floor (bench/floor.py) at the same BOM
sizes and concurrency, in the same database and run. Every phase is checked (all triggers POSTED,
balance == Σ ledger, nothing negative, the audit chain whole, the floor's rows equal to the server's);
a wrong run prints no figures and exits 1. Progress goes to stderr; the table to stdout; the JSON to --json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import genealogy_data, report  # noqa: E402
from bench.checks import check_rows_match  # noqa: E402
from bench.genealogy_probe import probe  # noqa: E402
from bench.http_api import GraphQL, create_identities, line_token, sign_in  # noqa: E402
from bench.plant import build_site, build_size  # noqa: E402
from bench.server import ScratchDatabase, Server, backflush_commands, memory_mb  # noqa: E402
from bench.triggers import Context, LoadSettings, floor_phase, served_phase  # noqa: E402
from bench.wrong_run import WrongRun  # noqa: E402
from kernel.database import build_engine, session_factory  # noqa: E402

PARTS = ("triggers", "rules", "genealogy")
SERVED_RATE_CEILING, FLOOR_RATE_CEILING = 400, 5000  # triggers/s one order is stocked for


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run (default all)")
    parser.add_argument("--lines", type=int, nargs="+", default=[5, 10, 50], help="BOM sizes")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="concurrent clients per measurement")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per phase (after warm-up)")
    parser.add_argument("--warm-up", type=int, default=3, help="triggers each client posts before the clock starts")
    parser.add_argument("--workers", type=int, default=2, help="backflush serve worker processes")
    parser.add_argument("--rules-seconds", type=float, default=3.0)
    parser.add_argument("--chain-lots", type=int, default=1000)
    parser.add_argument("--chain-levels", type=int, default=5)
    parser.add_argument("--recall-edges", type=int, default=200_000)
    parser.add_argument("--recall-ledger-rows", type=int, default=1_000_000)
    parser.add_argument("--genealogy-samples", type=int, default=200,
                        help="requests per tree after the warm-up: 30 (0.6 s) let one slow second of a shared host decide the p50")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="PostgreSQL server; a database backflush_bench_<pid> is created on it and dropped")
    parser.add_argument("--json", type=Path, default=None, help="where to write the figures (default: a temp file)")
    parser.add_argument("--keep", action="store_true", help="keep the database and server log for inspection")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict:
    """Everything, or WrongRun. The database is dropped and the server stopped whatever happens."""
    database = ScratchDatabase(args.server_url, f"backflush_bench_{os.getpid()}")
    log = Path(tempfile.gettempdir()) / f"{database.name}.serve.log"
    server = Server(database.url, args.workers, log)
    engine = None
    say(f"database {database.name}; server log {log}")
    database.create()
    try:
        backflush_commands((("migrate",), None), database_url=database.url)
        server.launch()  # it boots while the CLI makes the identities
        identities = create_identities(database.url)
        server.wait_until_healthy()
        engine = build_engine(database.url)
        api = GraphQL(server.base_url, sign_in(server.base_url))
        locations = build_site(api)
        settings = LoadSettings(warm_up=args.warm_up, seconds=args.seconds, caps={
            "SRV": args.warm_up + math.ceil(args.seconds * SERVED_RATE_CEILING),
            "FLR": args.warm_up + math.ceil(args.seconds * FLOOR_RATE_CEILING)})
        context = Context(database, server, line_token(server.base_url, identities), session_factory(engine), settings)
        result = {"started_at": datetime.now(UTC).isoformat(), "settings": _settings(args),
                  "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(),
                              "interpreter_ms_at_start": interpreter_ms()}}
        if "triggers" in args.only:
            result["triggers"] = _trigger_part(args, api, locations, context)
        if "rules" in args.only:
            result["rules"] = _rules_part(args)
        if "genealogy" in args.only:
            result["genealogy"] = _genealogy_part(args, api, context)
        result["memory"] = _memory(context)
        result["machine"]["load_average_at_end"] = os.getloadavg()
        result["machine"]["interpreter_ms_at_end"] = interpreter_ms()
        api.close()
        return result
    finally:
        server.stop()
        if engine is not None:
            engine.dispose()
        if not args.keep:
            database.drop()
            log.unlink(missing_ok=True)


def _settings(args: argparse.Namespace) -> dict:
    return {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()}


def _trigger_part(args, api: GraphQL, locations: dict, context: Context) -> list[dict]:
    phases = []
    for lines in args.lines:
        say(f"{lines} lines: building the plant through the API")
        plant = build_size(api, locations, lines=lines, clients=args.clients, caps=context.settings.caps)
        for clients in args.clients:
            for side, measure in (("served", served_phase), ("floor", floor_phase)):
                say(f"{lines} lines, {clients} client(s): {side}")
                phases.append(measure(context, plant, clients))
        with context.database.connect() as connection:
            served, floor = (_order_id(connection, plant.for_run(pool, min(args.clients))[0].number)
                             for pool in ("SRV", "FLR"))
            compared = check_rows_match(connection, served_order=served, floor_order=floor)
        say(f"{lines} lines: the floor's rows equal the server's for the first {compared} triggers")
    return report.trigger_rows(phases)


def _order_id(connection, number: str) -> int:
    return connection.execute("SELECT id FROM workorder WHERE number = %s", (number,)).fetchone()[0]


def _rules_part(args) -> dict:
    from bench.bench_rules import measure

    say("rules: 10-rule set through rules.evaluate")
    wall, cpu, matching = measure("durable", args.rules_seconds)
    return {"engine": "durable", "decisions_per_second": round(wall), "decisions_per_cpu_second": round(cpu),
            "matching_per_second": round(matching)}


def _genealogy_part(args, api: GraphQL, context: Context) -> dict:
    say("genealogy: generating the chain and the recall history")
    genealogy_data.create_master_data(api)
    started = time.perf_counter()
    with context.database.connect() as connection:
        ids = genealogy_data.look_up(connection)
        root, chain_edges = genealogy_data.generate_chain(connection, ids, lots=args.chain_lots, levels=args.chain_levels)
        raw, recall_edges = genealogy_data.generate_recall_history(connection, ids, edges=args.recall_edges,
                                                     ledger_rows=args.recall_ledger_rows)
        generated_in = time.perf_counter() - started
        rows, edges = connection.execute(
            "SELECT (SELECT count(*) FROM ledgerentry), (SELECT count(*) FROM genealogyedge)").fetchone()
        say("genealogy: measuring")
        speed_before = interpreter_ms()  # the machine's speed right around the probes, which last seconds
        common = {"samples": args.genealogy_samples}
        backward = probe(api, context.sessions, connection, item=genealogy_data.FINISHED, lot_number=root,
                         direction="BACKWARD", expected_edges=chain_edges, **common)
        forward = probe(api, context.sessions, connection, item=genealogy_data.RAW, lot_number=raw,
                        direction="FORWARD", expected_edges=recall_edges, **common)
        speed_after = interpreter_ms()
    return {"ledger_rows": rows, "edges": edges, "generated_in_s": round(generated_in, 1),
            "interpreter_ms_before_and_after": [speed_before, speed_after],
            "chain_lots": args.chain_lots, "chain_levels": args.chain_levels,
            "backward": backward, "forward": forward}


def _memory(context: Context) -> dict:
    """Per worker: the most it held while serving triggers (sampled) and the kernel's high-water mark for the run."""
    workers = {pid: memory_mb(pid)[1] for pid in context.server.worker_pids()}
    peaks = {str(pid): round(max(hwm, context.peak_rss_mb.get(pid, 0.0)), 1) for pid, hwm in workers.items()}
    sampled = {str(pid): round(mb, 1) for pid, mb in context.peak_rss_mb.items()}
    return {"peak_rss_mb_per_worker": peaks, "sampled_under_trigger_load_mb": sampled}


def interpreter_ms() -> float:
    """Milliseconds (best of 5) this machine's Python takes right now for a fixed piece of work shaped like a
    payload's (20,000 small dicts and strings): the absolute targets (genealogy) move with it, so a reader can
    tell a slower machine from slower code. Shared machines have been seen to vary 2× within minutes."""
    def work() -> None:
        rows = [{"id": str(n), "level": n % 7, "lot": (n, "L")} for n in range(20_000)]
        sorted(rows, key=lambda row: row["level"])
    return round(min(_timed(work) for _ in range(5)), 2)


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return 1000 * (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except WrongRun as wrong:
        print(f"WRONG RUN — no figures: {wrong}", file=sys.stderr)
        return 1
    peak = max(result["memory"]["peak_rss_mb_per_worker"].values(), default=None)
    targets = report.trigger_targets(result.get("triggers", [])) + report.other_targets(
        result.get("rules"), result.get("genealogy"), peak, under_load=bool(result.get("triggers")))
    result["targets"] = [t.as_json() for t in targets]
    path = args.json or Path(tempfile.gettempdir()) / f"backflush-bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(report.table(result))
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
