"""Issue 12: every statement of a genealogy answer reaches its rows through an index (EXPLAIN on PostgreSQL).

As for posting (tests/test_posting_plans_postgres.py): the statements are captured as sent, with their
parameters, and explained with sequential scans priced out, so a table still scanned has no index to use.
"""
from __future__ import annotations

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


@pytest.mark.parametrize("sites", [("*",), ("P1",)])
@pytest.mark.parametrize("direction, root", [(GenealogyDirection.BACKWARD, "PACK"), (GenealogyDirection.FORWARD, "API")])
def test_every_read_of_a_genealogy_tree_uses_an_index(sessions, engine, chain, direction, root, sites):  # noqa: F811
    lots, _, _ = chain
    principal = Principal(subject="client:qa", name="qa", kind="client", scopes=frozenset({"genealogy:read"}),
                          sites=frozenset(sites))
    captured: list[tuple[str, object]] = []

    def executed(_connection, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", executed)
    try:
        with sessions() as s:
            _, tree = shaped_tree(s, principal, lot_pk=lots[root], direction=direction, max_depth=None,
                                  include_reversed=True)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    assert tree is not None and tree.edges
    assert any("RECURSIVE" in statement for statement, _ in captured)
    assert seq_scans(engine, captured) == {}
