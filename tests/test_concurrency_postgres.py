"""Several server processes post triggers at the same moment against one PostgreSQL database (SPEC §4.4).

The parent builds the plant with the builders; each child is a separate OS process (multiprocessing
"spawn") with its own engine, as gunicorn workers would have. Children wait at a barrier, post their
triggers through `submit_trigger`, and send one `Outcome` per trigger back on a queue.
"""
from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from auth.principal import Principal
from backflush.services.ledger import check_consistency
from backflush.services.posting import submit_trigger
from backflush.services.trigger_eval import TriggerInput
from kernel.database import build_engine, session_factory
from kernel.errors import DomainError
from models import Balance, LedgerEntry, StagedLot, Trigger
from tests.builders import Plant, line, qa_user
from tests.conftest import on_postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not on_postgres(), reason="needs several server processes on PostgreSQL: "
                                                  "set BACKFLUSH_TEST_DATABASE_URL=postgresql://…"),
]

SPAWN = multiprocessing.get_context("spawn")
PROCESSES = 4
DEADLINE_SECONDS = 30  # per scenario, for every child's postings; start-up is paid once per module
OPERATOR = "user:line.operator"  # one client for every process, so idempotency keys share one namespace


@dataclass(frozen=True)
class Posting:
    """One trigger a child is told to post: picklable, unlike a TriggerInput built against ORM rows."""

    work_order_id: int
    good: str
    key: str


@dataclass(frozen=True)
class Outcome:
    worker: int
    key: str
    trigger_id: int | None = None
    outcome: str | None = None  # POSTED or BLOCKED
    replayed: bool | None = None
    refused: str | None = None  # a DomainError's code: an expected, coded refusal
    crash: str | None = None  # anything else (deadlock, integrity error, …) as a traceback


def serve(worker: int, jobs, start, results) -> None:
    """A child process: for each (database url, postings) job, post them all, then wait for the next."""
    for database_url, postings in iter(jobs.get, None):
        post_all(database_url, worker, postings, start, results)


def post_all(database_url: str, worker: int, postings: list[Posting], start, results) -> None:
    """Its own engine and principal, a start line shared with the other children, then every posting."""
    engine = build_engine(database_url, pool_size=1, max_overflow=1)
    sessions = session_factory(engine)
    operator = Principal(subject=OPERATOR, name="Line operator", kind="user", roles=frozenset({"QA"}),
                         scopes=frozenset({"admin"}), sites=frozenset({"*"}))
    try:
        with engine.connect():
            pass  # connect before the barrier, so the race is between postings, not handshakes
        start.wait(timeout=DEADLINE_SECONDS)
    except Exception:
        results.put(Outcome(worker, "<start>", crash=traceback.format_exc()))
        engine.dispose()
        return
    for posting in postings:
        results.put(_post_one(sessions, operator, worker, posting))
    engine.dispose()


def _post_one(sessions, operator: Principal, worker: int, posting: Posting) -> Outcome:
    request = TriggerInput(idempotency_key=posting.key, work_order_id=posting.work_order_id,
                           kind="GOOD_UNITS_DECLARED", good_quantity=posting.good)
    try:
        result = submit_trigger(sessions, operator, request)
    except DomainError as refused:
        return Outcome(worker, posting.key, refused=refused.code)
    except Exception:
        return Outcome(worker, posting.key, crash=traceback.format_exc())
    return Outcome(worker, posting.key, trigger_id=result.trigger.id, outcome=result.trigger.outcome,
                   replayed=result.replayed)


class PostingProcesses:
    """Four spawned OS processes, each with its own engine per job, like four server workers.

    Spawning one costs seconds (it imports the whole application), so they live for the module and
    take one job per scenario; a reusable barrier releases all four at the same moment.
    """

    def __init__(self, count: int = PROCESSES):
        self.start, self.results = SPAWN.Barrier(count), SPAWN.Queue()
        self.inboxes = [SPAWN.Queue() for _ in range(count)]
        self.children = [SPAWN.Process(target=serve, args=(worker, inbox, self.start, self.results), daemon=True)
                         for worker, inbox in enumerate(self.inboxes)]
        for child in self.children:
            child.start()

    def run(self, database_url: str, jobs: list[list[Posting]]) -> list[Outcome]:
        """Give each process its job, collect every outcome before the deadline, fail on any crash."""
        assert len(jobs) == len(self.children), "every process takes part, or the barrier never opens"
        assert all(child.is_alive() for child in self.children), "a posting process died in an earlier scenario"
        for inbox, postings in zip(self.inboxes, jobs, strict=True):
            inbox.put((database_url, postings))
        outcomes = self._collect(sum(map(len, jobs)))
        crashes = [o.crash for o in outcomes if o.crash]
        if crashes or len(outcomes) < sum(map(len, jobs)):
            self.kill()  # late outcomes must not leak into the next scenario
        assert not crashes, "a posting process crashed:\n" + "\n".join(crashes)
        assert len(outcomes) == sum(map(len, jobs)), f"only {len(outcomes)} postings reported before the deadline"
        return outcomes

    def _collect(self, expected: int) -> list[Outcome]:
        deadline, outcomes = time.monotonic() + DEADLINE_SECONDS, []
        while len(outcomes) < expected and time.monotonic() < deadline:
            try:
                outcomes.append(self.results.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                break
            if outcomes[-1].key == "<start>":
                break
        return outcomes

    def kill(self) -> None:
        for child in self.children:
            child.terminate()
            child.join(timeout=5)

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for child in self.children:
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
                child.join(timeout=5)


@pytest.fixture(scope="module")
def processes():
    pool = PostingProcesses()
    yield pool
    pool.close()


def issued_by_line(sessions, work_order) -> dict[int, Decimal]:
    with sessions() as s:
        rows = s.execute(select(LedgerEntry.bom_line_no, LedgerEntry.quantity).where(
            LedgerEntry.work_order_id == work_order.id, LedgerEntry.kind == "BACKFLUSH_ISSUE"))
        totals: dict[int, Decimal] = defaultdict(Decimal)
        for line_no, quantity in rows:
            totals[line_no] += quantity
        return dict(totals)


def bindings_of(sessions, work_order) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """lot id → (staged, remaining, Σ issued from that binding)."""
    with sessions() as s:
        issued: dict[int, Decimal] = defaultdict(Decimal)
        for binding_id, quantity in s.execute(select(LedgerEntry.staged_lot_id, LedgerEntry.quantity).where(
                LedgerEntry.work_order_id == work_order.id, LedgerEntry.kind == "BACKFLUSH_ISSUE")):
            issued[binding_id] += quantity
        return {b.lot_id: (b.staged_quantity, b.remaining_quantity, issued[b.id])
                for b in s.scalars(select(StagedLot).where(StagedLot.work_order_id == work_order.id))}


def assert_books_balance_and_nothing_is_negative(sessions) -> None:
    with sessions() as s:
        assert check_consistency(s) == []
        assert s.scalar(select(func.min(Balance.quantity))) >= 0
        assert s.scalar(select(func.min(StagedLot.remaining_quantity))) >= 0


def on_hand(sessions, lot, location_id) -> Decimal:
    with sessions() as s:
        return s.scalar(select(Balance.quantity).where(Balance.lot_id == lot.id, Balance.location_id == location_id))


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions))


def test_four_processes_posting_on_one_order_post_exactly_the_cumulative_targets(
        plant, sessions, database_url, processes):
    # given one order for FG: 1 kg of C and 0.0003 kg of D per unit, two lots of C and one of D staged
    plant.item("C", "kg", 3)
    plant.item("D", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1"), line(2, "D", "0.0003")])
    c1, c2 = plant.receive("C", "C-1", "30.000"), plant.receive("C", "C-2", "100.000")
    d1 = plant.receive("D", "D-1", "1.000")
    order = plant.work_order("WO-1", "FG", "1000")
    for lot, quantity in ((c1, "30.000"), (c2, "100.000"), (d1, "1.000")):
        plant.stage(order, lot, quantity)
    # when 4 processes each post 10 triggers of 1, 2, 3, 1, 2, 3, 1, 2, 3, 1 units (19 each, 76 in all)
    jobs = [[Posting(order.id, str(i % 3 + 1), f"a-{w}-{i}") for i in range(10)] for w in range(4)]
    outcomes = processes.run(database_url, jobs)
    # then every trigger posted once, and the order consumed exactly the targets for 76 units:
    #   C = 76 × 1 = 76.000 kg (30 from C-1, received first, then 46 from C-2)
    #   D = round(76 × 0.0003 = 0.0228, 3) = 0.023 kg — rounded once, on the cumulative figure
    assert Counter(o.outcome for o in outcomes) == {"POSTED": 40}
    assert not any(o.replayed for o in outcomes)
    with sessions() as s:
        keys = Counter(s.scalars(select(Trigger.idempotency_key).where(Trigger.work_order_id == order.id)))
        workers = [key.split("-")[1] for key in s.scalars(select(Trigger.idempotency_key).order_by(Trigger.id))]
    workers_taking_turns = sum(a != b for a, b in zip(workers, workers[1:], strict=False))
    assert workers_taking_turns > PROCESSES, "the processes ran one after another: this test raced nothing"
    assert keys == {posting.key: 1 for job in jobs for posting in job}
    assert issued_by_line(sessions, order) == {1: Decimal("76.000"), 2: Decimal("0.023")}
    assert bindings_of(sessions, order) == {c1.id: (Decimal("30.000"), Decimal("0.000"), Decimal("30.000")),
                                            c2.id: (Decimal("100.000"), Decimal("54.000"), Decimal("46.000")),
                                            d1.id: (Decimal("1.000"), Decimal("0.977"), Decimal("0.023"))}
    assert on_hand(sessions, c2, plant.locations["WIP"]) == Decimal("54.000")
    assert_books_balance_and_nothing_is_negative(sessions)


def test_two_orders_sharing_one_lot_each_consume_only_their_own_binding_and_block_the_rest(
        plant, sessions, database_url, processes):
    # given 10 kg of lot L, 6 kg staged to WO-1 and 4 kg to WO-2, at 1 kg per unit
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    lot = plant.receive("C", "L", "10.000")
    first, second = plant.work_order("WO-1", "FG"), plant.work_order("WO-2", "FG")
    plant.stage(first, lot, "6.000")
    plant.stage(second, lot, "4.000")
    # when two processes per order each declare 5 single units: 10 kg wanted per order, 20 kg in all
    jobs = [[Posting(order.id, "1", f"b-{order.number}-{w}-{i}") for i in range(5)]
            for order in (first, second) for w in range(2)]
    outcomes = processes.run(database_url, jobs)
    # then WO-1 posts 6 and WO-2 posts 4 — never a kilogram of the other's binding — and the rest block
    by_order = {order.number: Counter(o.outcome for o in outcomes if o.key.startswith(f"b-{order.number}-"))
                for order in (first, second)}
    assert by_order == {"WO-1": {"POSTED": 6, "BLOCKED": 4}, "WO-2": {"POSTED": 4, "BLOCKED": 6}}
    with sessions() as s:
        reasons = {r["code"] for t in s.scalars(select(Trigger).where(Trigger.outcome == "BLOCKED"))
                   for r in t.block_reasons}
    assert reasons == {"INSUFFICIENT_STAGED_STOCK"}
    assert issued_by_line(sessions, first) == {1: Decimal("6.000")}
    assert issued_by_line(sessions, second) == {1: Decimal("4.000")}
    assert bindings_of(sessions, first) == {lot.id: (Decimal("6.000"), Decimal("0.000"), Decimal("6.000"))}
    assert bindings_of(sessions, second) == {lot.id: (Decimal("4.000"), Decimal("0.000"), Decimal("4.000"))}
    assert on_hand(sessions, lot, plant.locations["WIP"]) == Decimal("0.000")
    assert_books_balance_and_nothing_is_negative(sessions)


def test_an_idempotency_key_posted_by_four_processes_at_once_posts_once_and_replays_three_times(
        plant, sessions, database_url, processes):
    # given an order with plenty staged
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    lot = plant.receive("C", "C-1", "100.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "100.000")
    # when 4 processes post the same 5 keys, in the same order, with the same payload (5 units each)
    keys = [f"c-{i}" for i in range(5)]
    outcomes = processes.run(database_url, [[Posting(order.id, "5", key) for key in keys] for _ in range(4)])
    # then each key has one trigger, every process got its id, and exactly one of the four posted it
    with sessions() as s:
        stored = {t.idempotency_key: t for t in s.scalars(select(Trigger).where(Trigger.work_order_id == order.id))}
    assert sorted(stored) == keys
    for key in keys:
        answers = [o for o in outcomes if o.key == key]
        assert {o.trigger_id for o in answers} == {stored[key].id}
        assert sorted(o.replayed for o in answers) == [False, True, True, True]
        assert {o.outcome for o in answers} == {"POSTED"}
    assert issued_by_line(sessions, order) == {1: Decimal("25.000")}
    assert_books_balance_and_nothing_is_negative(sessions)


def test_orders_drawing_two_shared_lots_in_opposite_line_order_never_deadlock(plant, sessions, database_url, processes):
    # given X draws A then B and Y draws B then A, and both orders have lots A-1 and B-1 staged
    plant.item("A", "kg", 3)
    plant.item("B", "kg", 3)
    plant.item("X", "ea", 0)
    plant.item("Y", "ea", 0)
    plant.bom("X", [line(1, "A", "1"), line(2, "B", "1")])
    plant.bom("Y", [line(1, "B", "1"), line(2, "A", "1")])
    a1, b1 = plant.receive("A", "A-1", "80.000"), plant.receive("B", "B-1", "80.000")
    x, y = plant.work_order("WO-X", "X"), plant.work_order("WO-Y", "Y")
    for order in (x, y):
        plant.stage(order, a1, "40.000")
        plant.stage(order, b1, "40.000")
    # when two processes per order each post 8 triggers of 2 units: 32 units, 32 kg of A and B, per order
    jobs = [[Posting(order.id, "2", f"d-{order.number}-{w}-{i}") for i in range(8)]
            for w in range(2) for order in (x, y)]
    outcomes = processes.run(database_url, jobs)
    # then everything posted (a deadlock would have failed the run as a crash) and the books balance
    assert Counter(o.outcome for o in outcomes) == {"POSTED": 32}
    assert issued_by_line(sessions, x) == {1: Decimal("32.000"), 2: Decimal("32.000")}
    assert issued_by_line(sessions, y) == {1: Decimal("32.000"), 2: Decimal("32.000")}
    for order in (x, y):
        assert bindings_of(sessions, order) == {lot.id: (Decimal("40.000"), Decimal("8.000"), Decimal("32.000"))
                                                for lot in (a1, b1)}
    assert [on_hand(sessions, lot, plant.locations["WIP"]) for lot in (a1, b1)] == [Decimal("16.000")] * 2
    assert_books_balance_and_nothing_is_negative(sessions)


def test_one_key_sent_for_four_different_orders_at_once_posts_once_and_refuses_the_others_as_reused(
        plant, sessions, database_url, processes):
    # given four orders, each with stock staged
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    lot = plant.receive("C", "C-1", "100.000")
    orders = [plant.work_order(f"WO-{n}", "FG") for n in range(1, 5)]
    for order in orders:
        plant.stage(order, lot, "25.000")
    # when each process sends the same 3 keys, but for its own order (so the work order locks do not
    # serialize them: the unique key in the database has to)
    keys = [f"e-{i}" for i in range(3)]
    outcomes = processes.run(database_url, [[Posting(order.id, "1", key) for key in keys] for order in orders])
    # then each key posted once, and the three other senders got IDEMPOTENCY_KEY_REUSED, not a crash
    for key in keys:
        answers = [o for o in outcomes if o.key == key]
        assert Counter(o.outcome or o.refused for o in answers) == {"POSTED": 1, "IDEMPOTENCY_KEY_REUSED": 3}
    with sessions() as s:
        assert Counter(s.scalars(select(Trigger.idempotency_key))) == {key: 1 for key in keys}
    assert_books_balance_and_nothing_is_negative(sessions)
