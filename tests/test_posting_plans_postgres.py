"""Issue 12: every statement of a posted trigger reaches its rows through an index (EXPLAIN on PostgreSQL).

The statements are captured as the server sends them (with their parameters) and explained with
sequential scans priced out, so a plan that still scans a table has no index to use — the bench's
tables are small enough that the planner would otherwise scan them anyway.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import event

from tests.builders import Plant, post, qa_user, trigger
from tests.conftest import on_postgres
from tests.test_posting_statements import _order_of

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not on_postgres(), reason="EXPLAIN plans are PostgreSQL's: "
                                                           "set BACKFLUSH_TEST_DATABASE_URL=postgresql://…")]

# Tables that grow with production. Not `ruleset`: a few versions per kind and site, read in one page;
# its versions-in-force query is the one sequential scan of a posting (see docs/performance.md).
HOT_TABLES = {"workorder", "trigger", "stagedlot", "balance", "ledgerentry", "auditrecord", "uomconversion", "lot",
              "location", "site", "serial", "genealogyedge"}


def _scanned(plan: dict) -> set[str]:
    found = {plan["Relation Name"]} if plan.get("Node Type") == "Seq Scan" else set()
    for child in plan.get("Plans", ()):
        found |= _scanned(child)
    return found


def seq_scans(engine, captured: list[tuple[str, object]]) -> dict[str, set[str]]:
    """The hot tables each captured statement still scans, with sequential scans priced out (none: {})."""
    scans = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET enable_seqscan = off")
        for statement, parameters in captured:
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            scanned = _scanned(plan[0]["Plan"]) & HOT_TABLES
            if scanned:
                scans[" ".join(statement.split())[:120]] = scanned
        raw.rollback()
    finally:
        raw.close()
    return scans


def test_every_read_and_update_of_a_posted_trigger_uses_an_index(sessions, engine):
    plant = Plant(sessions, qa_user(sessions))
    order = _order_of(plant, 10)
    post(plant, trigger(order, "1", key="warm"))
    captured: list[tuple[str, object]] = []

    def executed(_connection, _cursor, statement, parameters, _context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH",
                                                                       "INSERT INTO AUDITRECORD")):
            captured.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", executed)
    try:
        post(plant, trigger(order, "1", key="measured"))
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    assert len(captured) >= 10
    assert seq_scans(engine, captured) == {}
