"""The floor (bench/floor.py) writes exactly the rows a served trigger writes, in 11 statements (issue 12)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.engine import make_url

from backflush.services.ledger import check_consistency
from bench.checks import check_rows_match
from bench.floor import STATEMENTS_PER_TRIGGER, FloorClient
from bench.floor_order import FloorUnsupported, load_order
from kernel import audit
from tests.builders import Plant, line, post, qa_user, trigger
from tests.conftest import on_postgres

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not on_postgres(), reason="the floor is PostgreSQL SQL: set BACKFLUSH_TEST_DATABASE_URL")]

COMPONENTS = ("C01", "C02", "C03")


def libpq_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def given_two_orders_sharing_lots(sessions):
    """FG takes 0.25 kg of each component; lot A (expires first) has 0.350 kg staged to each order, lot B 10 kg,
    so the second trigger draws 0.100 from A and 0.150 from B on every line."""
    plant = Plant(sessions, qa_user(sessions))
    plant.item("FG", "ea", 0)
    for code in COMPONENTS:
        plant.item(code, "kg", 3)
    plant.bom("FG", [line(n, code, "0.250") for n, code in enumerate(COMPONENTS, start=1)])
    served, floor = plant.work_order("SRV-1", "FG", "50"), plant.work_order("FLR-1", "FG", "50")
    for code in COMPONENTS:
        a = plant.receive(code, f"POOL-{code}-A", "1.000", expires_on=date.today() + timedelta(days=30))
        b = plant.receive(code, f"POOL-{code}-B", "40.000", expires_on=date.today() + timedelta(days=60))
        for order in (served, floor):
            plant.stage(order, a, "0.350")
            plant.stage(order, b, "10.000")
    return plant, served, floor


def test_the_floor_writes_the_rows_the_server_writes_in_eleven_statements(sessions, database_url, monkeypatch):
    plant, served, floor_order = given_two_orders_sharing_lots(sessions)
    monkeypatch.setattr("bench.checks.POOLS", ("POOL",))
    with psycopg.connect(libpq_url(database_url)) as connection:
        floor = FloorClient(connection, load_order(connection, floor_order.id), subject=plant.principal.subject)
        for n in range(3):
            assert post(plant, trigger(served, "1", key=f"s-{n}")).trigger.outcome == "POSTED"
        floor.post("f-0")
        first = floor.statements
        floor.post("f-1")
        floor.post("f-2")

        assert first == STATEMENTS_PER_TRIGGER + 1  # the order's first trigger also sets it IN_PROGRESS
        assert floor.statements - first == 2 * STATEMENTS_PER_TRIGGER == 22
        assert check_rows_match(connection, served_order=served.id, floor_order=floor_order.id) == 3
        draws = connection.execute("SELECT count(*) FROM ledgerentry WHERE work_order_id = %s AND kind = "
                                   "'BACKFLUSH_ISSUE'", (floor_order.id,)).fetchone()[0]
        assert draws == 3 + 6 + 3  # the second trigger draws two lots on every line
    with sessions() as session:
        assert check_consistency(session) == []
        assert audit.verify(session).ok


def test_a_floor_row_that_differs_from_the_server_is_caught(sessions, database_url, monkeypatch):
    plant, served, floor_order = given_two_orders_sharing_lots(sessions)
    monkeypatch.setattr("bench.checks.POOLS", ("POOL",))
    with psycopg.connect(libpq_url(database_url)) as connection:
        floor = FloorClient(connection, load_order(connection, floor_order.id), subject=plant.principal.subject)
        post(plant, trigger(served, "1", key="s-0"))
        floor.post("f-0", good=Decimal(2))
        with pytest.raises(RuntimeError, match="trigger 1: the floor's rows differ"):
            check_rows_match(connection, served_order=served.id, floor_order=floor_order.id)


def test_the_floor_refuses_a_bom_it_cannot_plan(sessions, database_url):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("FG", "ea", 0)
    plant.item("C01", "kg", 3)
    plant.bom("FG", [line(1, "C01", "0.250", scrap_percent="2", scrap_source="bench")])
    order = plant.work_order("FLR-1", "FG", "5")
    with psycopg.connect(libpq_url(database_url)) as connection, \
            pytest.raises(FloorUnsupported, match="BOM line 1"):
            load_order(connection, order.id)
