"""Audit appends on PostgreSQL with several processes: one chain per site, so sites never wait for each other
(issue 12 item 3), every chain stays gapless under concurrency, and the outcome feed misses nothing."""
from __future__ import annotations

import multiprocessing
import time
import traceback

import pytest
from sqlalchemy import select

from auth.principal import Principal
from backflush.reads import records as reads
from backflush.services.commands import command
from backflush.services.posting import submit_trigger
from backflush.services.trigger_eval import TriggerInput
from kernel import audit
from kernel.database import build_engine, session_factory
from models import AuditRecord, Trigger, WorkOrder
from tests.builders import qa_user
from tests.conftest import on_postgres
from tests.test_audit_trail import chain_rows, two_sites

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not on_postgres(), reason="needs several processes on PostgreSQL: "
                                                  "set BACKFLUSH_TEST_DATABASE_URL=postgresql://…"),
]

SPAWN = multiprocessing.get_context("spawn")
OPERATOR = Principal(subject="user:line.operator", name="Line operator", kind="user", roles=frozenset({"QA"}),
                     scopes=frozenset({"admin"}), sites=frozenset({"*"}))


def post_in_child(database_url: str, work_order_id: int, key: str, lock_timeout_ms: int, results) -> None:
    """A server process of its own: posts one trigger, giving up on any lock after `lock_timeout_ms`."""
    engine = build_engine(database_url, connect_args={"options": f"-c lock_timeout={lock_timeout_ms}"})
    started = time.monotonic()
    try:
        result = submit_trigger(session_factory(engine), OPERATOR, TriggerInput(
            idempotency_key=key, work_order_id=work_order_id, kind="GOOD_UNITS_DECLARED", good_quantity="2"))
        results.put(("POSTED" if result.trigger.outcome == "POSTED" else result.trigger.outcome,
                     time.monotonic() - started))
    except Exception:
        results.put((traceback.format_exc(limit=3), time.monotonic() - started))
    finally:
        engine.dispose()


def post_from_another_process(database_url: str, work_order_id: int, key: str, *, lock_timeout_ms: int):
    results = SPAWN.Queue()
    child = SPAWN.Process(target=post_in_child, args=(database_url, work_order_id, key, lock_timeout_ms, results))
    child.start()
    try:
        return results.get(timeout=60)
    finally:
        child.join(timeout=10)


def order_id(sessions, number: str) -> int:
    with sessions() as s:
        return s.scalar(select(WorkOrder.id).where(WorkOrder.number == number))


def test_a_trigger_at_site_b_commits_while_site_a_holds_its_chain_open(sessions, database_url):
    # given two sites, each with a released order and staged stock
    a, b = two_sites(sessions)
    order_a, order_b = order_id(sessions, "WO-A"), order_id(sessions, "WO-B")
    # when a transaction at site A has appended to A's chain and not committed
    with command(sessions, None) as holder:
        audit.record(holder, actor="user:slow", action="test.held", entity_type="site", entity_id=a.site_id)
        # then a trigger at site B, in another process, posts and commits meanwhile, without waiting
        outcome_b, seconds_b = post_from_another_process(database_url, order_b, "b-while-a-held", lock_timeout_ms=5000)
        assert outcome_b == "POSTED", outcome_b
        assert seconds_b < 5
        # while one at site A does wait for A's chain (the lock is real; it gives up after 1 s here)
        outcome_a, _ = post_from_another_process(database_url, order_a, "a-while-a-held", lock_timeout_ms=1000)
        assert "LockNotAvailable" in outcome_a or "lock timeout" in outcome_a
        holder.commit()
    with sessions() as s:
        assert audit.verify(s).ok
    assert [r.action for r in chain_rows(sessions, b.site_id)][-1] == "trigger.posted"


def append_in_child(database_url: str, chains: list, offset: int, rounds: int, start, results) -> None:
    """Round-robin over the chains (None: the global one), one committed append at a time."""
    engine = build_engine(database_url, pool_size=1, max_overflow=0)
    sessions = session_factory(engine)
    try:
        start.wait(timeout=60)
        for i in range(rounds):
            site_id = chains[(offset + i) % len(chains)]
            with command(sessions, None) as s:
                audit.record(s, actor="user:racer", action="test.raced", entity_type="site" if site_id else "item",
                             entity_id=site_id or i + 1)
                s.commit()
        results.put("done")
    except Exception:
        results.put(traceback.format_exc())
    finally:
        engine.dispose()


def test_four_processes_appending_to_three_chains_leave_every_chain_gapless_and_verified(sessions, database_url):
    # given two sites and the global chain
    a, b = two_sites(sessions)
    before = {site: len(chain_rows(sessions, site)) for site in (None, a.site_id, b.site_id)}
    # when four processes append 30 rows each at the same moment, spread over the three chains
    start, results = SPAWN.Barrier(4), SPAWN.Queue()
    chains = [a.site_id, b.site_id, None]
    children = [SPAWN.Process(target=append_in_child, args=(database_url, chains, w, 30, start, results))
                for w in range(4)]
    for child in children:
        child.start()
    reports = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=10)
    assert reports == ["done"] * 4, reports
    # then each chain grew by exactly its appends, without gaps or forks, and the trail verifies
    grown = {site: len(chain_rows(sessions, site)) - before[site] for site in before}
    assert grown == {None: 40, a.site_id: 40, b.site_id: 40}
    for site in before:
        assert [r.chain_seq for r in chain_rows(sessions, site)] == list(range(1, before[site] + 41))
    with sessions() as s:
        result = audit.verify(s)
    assert result.ok and result.chains == 3


def test_the_outcome_feed_misses_no_outcome_committed_after_a_later_sites_outcome(sessions):
    # given a trigger at each site and a reader positioned at the current end of the trail
    a, b = two_sites(sessions)
    with sessions() as s:
        trigger_a, trigger_b = (s.scalar(select(Trigger.id).where(Trigger.site_id == p.site_id)) for p in (a, b))
        position = reads.audit_position(s)
    reader = qa_user(sessions, "reader")
    # when site A's outcome is appended first (lower global seq) but commits after site B's
    with command(sessions, None) as slow:
        first = audit.record(slow, actor="user:op", action="trigger.posted", entity_type="trigger", entity_id=trigger_a)
        with command(sessions, None) as fast:
            second = audit.record(fast, actor="user:op", action="trigger.posted", entity_type="trigger",
                                  entity_id=trigger_b)
            fast.commit()
        assert first.seq < second.seq
        with sessions() as s:
            position, seen = reads.trigger_outcomes_after(s, reader, after=position, work_order_id=None)
        assert [t.id for t in seen] == [trigger_b]
        slow.commit()
    # then the next read still delivers site A's outcome
    with sessions() as s:
        position, seen = reads.trigger_outcomes_after(s, reader, after=position, work_order_id=None)
        assert [t.id for t in seen] == [trigger_a]
        assert reads.trigger_outcomes_after(s, reader, after=position, work_order_id=None) == (position, [])
        assert s.scalar(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()).limit(1)) == second.seq
