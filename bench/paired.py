"""Old code beside new on one database, one request at a time each: a change judged on a machine whose speed drifts.

    .venv/bin/python bench/paired.py postgresql://postgres@127.0.0.1:5432/<kept bench db> OLD_CHECKOUT \
        [NEW_CHECKOUT (default: this one)] [--samples 200] [--direction BACKWARD --lot GEN-C0-0 --item GEN-FG]

Run it on a database kept by `bench/run.py --only genealogy --keep`, with OLD_CHECKOUT a worktree of the code to
compare against (`git worktree add /tmp/old <commit>`; both use this venv). It starts `backflush serve --workers 1`
from each checkout (PYTHONPATH picks the code; the venv's installed project would otherwise win), sends the
probe's `genealogy` request to each in turn, the order swapped every round, and prints each side's HTTP p50 and
its worker's CPU per request (from /proc) and, where it sends one, the p50 of its Server-Timing, then how often the new side was faster and the median of the
per-round ratios. On a shared host whose speed halves within minutes (bench/README.md), absolute figures of two
runs cannot be compared; the two sides of one round can.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bench.genealogy_probe import GENEALOGY, LOT, SERVER_TIMING  # noqa: E402
from bench.server import BIN, Server  # noqa: E402

WARM_UP = 10
SCOPES = ("genealogy:read", "production:read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path, nargs="?", default=Path(__file__).resolve().parents[1])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--direction", default="BACKWARD")
    parser.add_argument("--lot", default="GEN-C0-0")
    parser.add_argument("--item", default="GEN-FG")
    args = parser.parse_args()
    client_id, secret = _client(args.database_url)
    logs = Path(tempfile.mkdtemp(prefix="backflush-paired-"))
    servers = {"old": Server(args.database_url, 1, logs / "old.log"), "new": Server(args.database_url, 1, logs / "new.log")}
    try:
        for side, checkout in (("old", args.old), ("new", args.new)):
            os.environ["PYTHONPATH"] = str(checkout.resolve())
            servers[side].launch()
        sides = {side: _side(server, client_id, secret, args) for side, server in servers.items()}
        latency: dict[str, list[float]] = {"old": [], "new": []}
        server_ms: dict[str, list[float]] = {"old": [], "new": []}  # Server-Timing, where the side sends it
        cpu_at_start: dict[str, float] = {}
        for round_ in range(WARM_UP + args.samples):
            for side in ("old", "new") if round_ % 2 else ("new", "old"):
                http, variables = sides[side]
                started = time.perf_counter()
                response = http.post("/graphql", json={"query": GENEALOGY, "variables": variables})
                elapsed = 1000 * (time.perf_counter() - started)
                if response.status_code != 200 or response.json().get("errors"):
                    raise SystemExit(f"{side}: {response.status_code} {response.text[:300]}")
                if round_ >= WARM_UP:
                    latency[side].append(elapsed)
                    timing = SERVER_TIMING.fullmatch(response.headers.get("server-timing", ""))
                    if timing is not None:
                        server_ms[side].append(float(timing.group(1)))
                elif round_ == WARM_UP - 1:
                    cpu_at_start[side] = _cpu_ms(servers[side])
        for side in ("old", "new"):
            cpu = (_cpu_ms(servers[side]) - cpu_at_start[side]) / args.samples
            server = f"server p50 {statistics.median(server_ms[side]):.2f} ms; " if server_ms[side] else ""
            print(f"{side}: HTTP p50 {statistics.median(latency[side]):.2f} ms, min {min(latency[side]):.2f} ms; "
                  f"{server}server CPU per request {cpu:.2f} ms")
        pairs = list(zip(latency["old"], latency["new"], strict=True))
        print(f"new faster in {sum(new < old for old, new in pairs)}/{len(pairs)} rounds; "
              f"median new ÷ old {statistics.median(new / old for old, new in pairs):.3f}")
    finally:
        for server in servers.values():
            server.stop()


def _client(database_url: str) -> tuple[str, str]:
    client_id = f"paired-{os.getpid()}"
    scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
    made = subprocess.run([str(BIN / "backflush"), "create-client", "--client-id", client_id, "--name", client_id,
                           "--site", "*", *scopes], env={**os.environ, "BACKFLUSH_DATABASE_URL": database_url},
                          capture_output=True, text=True, check=True)
    secret = re.search(r"client secret \(shown once[^)]*\): (\S+)", made.stdout + made.stderr)
    if secret is None:
        raise SystemExit(f"create-client printed no secret: {made.stdout}{made.stderr}")
    return client_id, secret.group(1)


def _side(server: Server, client_id: str, secret: str, args) -> tuple[httpx.Client, dict]:
    server.wait_until_healthy()
    token = httpx.post(f"{server.base_url}/oauth/token", auth=(client_id, secret), timeout=30,
                       data={"grant_type": "client_credentials", "scope": " ".join(SCOPES)}).json()["access_token"]
    http = httpx.Client(base_url=server.base_url, timeout=60, headers={"Authorization": f"Bearer {token}"})
    lot = http.post("/graphql", json={"query": LOT, "variables": {"item": args.item, "lot": args.lot}}).json()
    return http, {"lot": lot["data"]["lot"]["id"], "direction": args.direction}


def _cpu_ms(server: Server) -> float:
    """User + system CPU of the server's worker(s) so far."""
    ticks = 0
    for pid in server.worker_pids():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return 1000 * ticks / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
