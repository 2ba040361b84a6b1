"""The sums of each order's postings that PostgreSQL keeps (migration 0013), and the planner reading them.

Every PostgreSQL test also checks, at teardown, that the kept sums equal what the ledger adds up to
(tests/conftest.py); these pin the numbers through posting, reversal and a second line.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text

from backflush.services import reversals
from backflush.services.trigger_facts import posted_totals, posted_totals_drift
from models import LedgerEntry, PostedLineTotal, PostedOperationTotal
from tests.builders import Plant, line, post, qa_user, signed, trigger
from tests.conftest import on_postgres
from tests.test_reversals import act, request

D = Decimal
pytestmark = pytest.mark.skipif(not on_postgres(), reason="SQLite keeps no sums: it adds up the ledger")


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions, "qa.lead"))


def _kept(plant) -> tuple[list, list]:
    with plant.sessions() as s:
        operations = [(r.operation_seq, r.good, r.scrap) for r in s.scalars(select(PostedOperationTotal))]
        lines = [(r.bom_line_no, r.quantity, r.line_quantity, r.by_lot_factor)
                 for r in s.scalars(select(PostedLineTotal).order_by(PostedLineTotal.bom_line_no))]
    return operations, lines


def test_postings_add_a_reversal_takes_back_and_the_planner_reads_the_same_as_the_ledger(plant):
    supervisor = qa_user(plant.sessions, "sup.one", roles=("SUPERVISOR",))
    plant.item("C", "kg", 3)
    plant.item("P", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1"), line(2, "P", "0.25")])
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, plant.receive("C", "C-1", "20.000"), "20.000")
    plant.stage(order, plant.receive("P", "P-1", "20.000"), "20.000")
    four = post(plant, trigger(order, "4", scrap="1")).trigger
    post(plant, trigger(order, "3"))
    # 5 units (4 good + 1 scrap), then 3: line 1 at 1 kg/unit, line 2 at 0.25 kg/unit
    assert _kept(plant) == ([(10, D("7"), D("1"))],
                            [(1, D("8.000"), D("0"), False), (2, D("2.000"), D("0"), False)])
    act(plant, supervisor, reversals.sign_reversal, reversal_id=request(plant, four).id, signature=signed())
    assert _kept(plant) == ([(10, D("3"), D("0"))],
                            [(1, D("3.000"), D("0"), False), (2, D("0.750"), D("0"), False)])
    with plant.sessions() as s:
        assert posted_totals(s, order.id) == posted_totals(s, order.id, from_ledger=True)
        assert posted_totals_drift(s) == []


def test_a_reversed_line_is_left_out_as_the_ledger_leaves_it_out(plant):
    supervisor = qa_user(plant.sessions, "sup.one", roles=("SUPERVISOR",))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, plant.receive("C", "C-1", "20.000"), "20.000")
    only = post(plant, trigger(order, "4")).trigger
    act(plant, supervisor, reversals.sign_reversal, reversal_id=request(plant, only).id, signature=signed())
    assert _kept(plant)[1] == [(1, D("0.000"), D("0"), False)]
    with plant.sessions() as s:
        operations, prior = posted_totals(s, order.id)
        assert prior == () and operations[10].good == D("0")
        assert posted_totals(s, order.id, from_ledger=True) == ({}, ())


def test_a_row_written_around_the_services_is_summed_too_and_drift_is_found(plant):
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, plant.receive("C", "C-1", "20.000"), "20.000")
    post(plant, trigger(order, "4"))
    with plant.sessions() as s:
        issue = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "BACKFLUSH_ISSUE")).one()
        s.execute(text("INSERT INTO ledgerentry (kind, site_id, lot_id, item_id, from_location_id, quantity, uom, "
                       "work_order_id, bom_line_no, actor, created_at) SELECT kind, site_id, lot_id, item_id, "
                       "from_location_id, 0.500, uom, work_order_id, bom_line_no, actor, now() FROM ledgerentry "
                       "WHERE id = :id"), {"id": issue.id})
        s.commit()
        assert s.scalar(select(PostedLineTotal.quantity)) == D("4.500")
        assert posted_totals_drift(s) == []
        s.execute(text("UPDATE postedlinetotal SET quantity = quantity + 1"))  # what no writer does
        assert posted_totals_drift(s) == [order.id]
        s.rollback()
