"""Decisions from many threads and asyncio tasks equal the same decisions made one by one."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from rules import default_source, evaluate, load_ruleset

KINDS_AND_FACTS = [
    ("ELIGIBILITY", {"candidate_lot": [{"candidate_id": "B1", "status": "RELEASED", "days_to_expiry": 3},
                                       {"candidate_id": "B2", "status": "ON_HOLD", "days_to_expiry": 9},
                                       {"candidate_id": "B3", "status": "RELEASED", "days_to_expiry": -2}]}),
    ("BLOCKING", {"trigger": [{"clock_skew_seconds": Decimal("130")}]}),
    ("BLOCKING", {"trigger": [{"clock_skew_seconds": Decimal("-3")}]}),
    ("DEVIATION", {"blocked_flush": [{"reason_codes": ["CLOCK_SKEW"]}],
                   "close_variance": [{"variance_percent": Decimal("6.2")}]}),
    ("REVERSAL_SIGNATURE", {"reversal": [{"value": Decimal("1200"), "output_lot_status": "QUARANTINE"}]}),
    ("REVERSAL_SIGNATURE", {"reversal": [{"value": Decimal("12"), "output_lot_status": "QUARANTINE"}]}),
]
RULESETS = {kind: load_ruleset(default_source(kind), ruleset_id=f"concurrent-{kind}", version=1, kind=kind)
            for kind, _ in KINDS_AND_FACTS}
WORK = KINDS_AND_FACTS * 60


def decide(job):
    kind, facts = job
    return evaluate(RULESETS[kind], facts, engine="durable")


def test_decisions_from_many_threads_equal_serial_decisions():
    serial = [decide(job) for job in WORK]
    with ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = list(pool.map(decide, WORK))
    assert concurrent == serial


def test_decisions_from_many_asyncio_tasks_equal_serial_decisions():
    serial = [decide(job) for job in WORK]

    async def all_at_once():
        in_threads = [asyncio.to_thread(decide, job) for job in WORK]
        return await asyncio.gather(*in_threads)

    assert asyncio.run(all_at_once()) == serial
