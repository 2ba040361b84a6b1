"""Where a genealogy request spends its time: the served path in-process, timed and profiled.

    .venv/bin/python bench/genealogy_profile.py postgresql://postgres@127.0.0.1:5432/<kept bench db>
        [--lot GEN-C0-0] [--item GEN-FG] [--direction BACKWARD] [--samples 30] [--sited] [--profile [--top 40]]

Run it on a database kept by `bench/run.py --only genealogy --keep`. The request is the probe's own
(`bench/genealogy_probe.GENEALOGY`) through the whole ASGI app (authentication stubbed: an admin of every
site, or with --sited one bound to the bench site, so the site walls are applied), driven by httpx in one
thread: the work the server hands to worker threads runs inline here, so cProfile sees all of it. The
p50 is printed, and with --profile a cProfile of `--samples` more requests sorted by cumulative and by own time.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio.to_thread  # noqa: E402
import httpx  # noqa: E402

from api.app import create_served_app  # noqa: E402
from auth.principal import Principal  # noqa: E402
from bench.genealogy_probe import GENEALOGY, LOT  # noqa: E402
from bench.plant import SITE  # noqa: E402
from kernel.settings import Settings  # noqa: E402


async def _inline(function, *args, **_):
    return function(*args)


async def _measure(app, args) -> cProfile.Profile | None:
    anyio.to_thread.run_sync = _inline  # one thread, so the profile holds the reads too
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        async def post(query: str, variables: dict) -> dict:
            body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
            if body.get("errors"):
                raise SystemExit(str(body)[:500])
            return body["data"]
        lot = (await post(LOT, {"item": args.item, "lot": args.lot}))["lot"]["id"]
        variables = {"lot": lot, "direction": args.direction}
        times, cpu = [], []
        for n in range(3 + args.samples):
            started, used = time.perf_counter(), time.process_time()
            data = await post(GENEALOGY, variables)
            if n >= 3:
                times.append(1000 * (time.perf_counter() - started))
                cpu.append(1000 * (time.process_time() - used))
        print(f"{args.direction} {args.lot}: {len(data['genealogy']['edges'])} edges, "
              f"{len(data['genealogy']['lots'])} lots; in-process p50 {statistics.median(times):.1f} ms, min {min(times):.1f} ms; "
              f"this process's CPU (client included) p50 {statistics.median(cpu):.1f} ms")
        if not args.profile:
            return None
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.samples):
            await post(GENEALOGY, variables)
        profile.disable()
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--lot", default="GEN-C0-0")
    parser.add_argument("--item", default="GEN-FG")
    parser.add_argument("--direction", default="BACKWARD")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--sited", action="store_true", help="a caller bound to the bench site (site walls on)")
    parser.add_argument("--profile", action="store_true", help="then profile as many requests again")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    principal = Principal(subject="user:profiler", name="Profiler", kind="user", roles=frozenset({"ADMIN"}),
                          scopes=frozenset({"admin"}), sites=frozenset({SITE} if args.sited else {"*"}))
    app = create_served_app(Settings(database_url=args.database_url), authenticate=lambda header: principal)
    profile = asyncio.run(_measure(app, args))
    if profile is None:
        return
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
