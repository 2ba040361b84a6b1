"""Issue 12: every statement of a genealogy answer reaches its rows through an index (EXPLAIN on PostgreSQL).

As for posting (tests/test_posting_plans_postgres.py): the statements are captured as sent, with their
parameters, and explained with sequential scans priced out, so a table still scanned has no index to use.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import event

from api.queries_genealogy import shaped_tree
from api.types.enums import GenealogyDirection
from auth.principal import Principal
from tests.conftest import on_postgres
from tests.test_genealogy import chain, floor  # noqa: F401 — the fixtures
from tests.test_posting_plans_postgres import seq_scans

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not on_postgres(), reason="EXPLAIN plans are PostgreSQL's: "
                                                           "set BACKFLUSH_TEST_DATABASE_URL=postgresql://…")]


def _captured_reads(engine, sessions, principal, lot_pk, direction) -> list[tuple[str, object]]:
    captured: list[tuple[str, object]] = []

    def executed(_connection, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", executed)
    try:
        with sessions() as s:
            _, tree = shaped_tree(s, principal, lot_pk=lot_pk, direction=direction, max_depth=None,
                                  include_reversed=True)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    assert tree is not None and tree.edges
    return captured


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@pytest.mark.parametrize("direction, root", [(GenealogyDirection.BACKWARD, "PACK"), (GenealogyDirection.FORWARD, "API")])
def test_the_walk_reads_each_far_lot_by_its_key_whatever_the_planner_would_prefer(
        sessions, engine, chain, direction, root):  # noqa: F811
    """The lots of a tree are read one index probe per edge, never by merging or hashing the lot table: planned as a
    join, PostgreSQL took a 55-edge recall for 1,647 rows and read the whole lot index (issue 12). Nested loops and
    sequential scans are priced out here, so any plan that could read the lot table as a whole would be chosen."""
    lots, _, _ = chain
    principal = Principal(subject="client:qa", name="qa", kind="client", scopes=frozenset({"genealogy:read"}),
                          sites=frozenset({"*"}))
    (walk, parameters), = [(statement, parameters) for statement, parameters in
                           _captured_reads(engine, sessions, principal, lots[root], direction) if "RECURSIVE" in statement]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_nestloop = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + walk, parameters)
        plan = cursor.fetchone()[0]
        raw.rollback()
    finally:
        raw.close()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    lot_reads = [node for node in _nodes(plan[0]["Plan"]) if node.get("Relation Name") == "lot"]
    assert lot_reads, "the walk reads the far lots"
    assert [(node["Node Type"], "genealogy_walk." in node.get("Index Cond", "")) for node in lot_reads] == [
        ("Index Scan", True)] * len(lot_reads)


@pytest.mark.parametrize("sites", [("*",), ("P1",)])
@pytest.mark.parametrize("direction, root", [(GenealogyDirection.BACKWARD, "PACK"), (GenealogyDirection.FORWARD, "API")])
def test_every_read_of_a_genealogy_tree_uses_an_index(sessions, engine, chain, direction, root, sites):  # noqa: F811
    lots, _, _ = chain
    principal = Principal(subject="client:qa", name="qa", kind="client", scopes=frozenset({"genealogy:read"}),
                          sites=frozenset(sites))
    captured = _captured_reads(engine, sessions, principal, lots[root], direction)
    assert any("RECURSIVE" in statement for statement, _ in captured)
    assert seq_scans(engine, captured) == {}
