"""Concurrent clients, each posting one trigger after another to its own work order, timed as it sees them.

Every client warms up first (connections, caches, prepared statements, the order's first trigger),
then all start together at a barrier and post until the time is up or their order's stock runs out
(`cap`). Throughput is triggers completed ÷ time from the common start to the last completion.
"""
from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Post = Callable[[int], dict | None]  # posts trigger n; returns what the client learned (e.g. statement counts)


@dataclass(frozen=True)
class Measurement:
    clients: int
    triggers: int
    seconds: float
    latencies_ms: tuple[float, ...]
    notes: tuple[dict, ...]  # one per measured trigger, from Post
    capped: bool  # some client ran out of stock before the time was up

    @property
    def per_second(self) -> float:
        return self.triggers / self.seconds

    @property
    def ms_per_trigger(self) -> float:
        return 1000 * self.seconds / self.triggers

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        return self.percentile(99)


@dataclass
class _Client:
    post: Post
    cap: int
    latencies: list[float] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    done_at: float = 0.0
    capped: bool = False
    failure: BaseException | None = None


def run_clients(posts: list[Post], *, warm_up: int, seconds: float, cap: int) -> Measurement:
    """Run one thread per client; raises the first client failure (a wrong run has no figures)."""
    clients = [_Client(post, cap) for post in posts]
    start = threading.Barrier(len(clients) + 1)
    clock = {"deadline": 0.0}
    threads = [threading.Thread(target=_run, args=(c, warm_up, start, clock), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    start.wait()  # every client has warmed up
    started = time.perf_counter()
    clock["deadline"] = started + seconds
    start.wait()  # …and now they all go
    for thread in threads:
        thread.join()
    failures = [c.failure for c in clients if c.failure is not None]
    if failures:
        raise failures[0]
    if not any(c.latencies for c in clients):
        raise RuntimeError("no trigger completed in the time given")
    return Measurement(clients=len(clients), triggers=sum(len(c.latencies) for c in clients),
                       seconds=max(c.done_at for c in clients if c.latencies) - started,
                       latencies_ms=tuple(ms for c in clients for ms in c.latencies),
                       notes=tuple(note for c in clients for note in c.notes), capped=any(c.capped for c in clients))


def _run(client: _Client, warm_up: int, start: threading.Barrier, clock: dict) -> None:
    n = 0
    try:
        for n in range(warm_up):
            client.post(n)
    except BaseException as failure:  # reported by run_clients, after the barrier
        client.failure = failure
    start.wait()
    start.wait()
    if client.failure is not None:
        return
    try:
        n = warm_up
        while time.perf_counter() < clock["deadline"]:
            if n >= client.cap:
                client.capped = True
                break
            t0 = time.perf_counter()
            note = client.post(n)
            client.done_at = time.perf_counter()
            client.latencies.append(1000 * (client.done_at - t0))
            if note is not None:
                client.notes.append(note)
            n += 1
    except BaseException as failure:
        client.failure = failure
