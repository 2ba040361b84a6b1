"""Every PostgreSQL session speaks UTC, whatever zone the database would give it (issue 12): times come back
with the UTC tzinfo itself, so nothing converts them one by one on the way to the wire."""
from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from kernel.database import build_engine
from tests.conftest import on_postgres

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not on_postgres(), reason="a PostgreSQL session setting: "
                                                           "set BACKFLUSH_TEST_DATABASE_URL=postgresql://…")]

ZONE = "America/New_York"
SPRING_FORWARD = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT, half an hour after the clocks went forward


def test_a_session_reads_utc_times_in_a_database_whose_default_zone_is_another(database_url):
    name = make_url(database_url).database
    admin = build_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET timezone = \'{ZONE}\''))
    admin.dispose()
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as bare:  # the database's own default, as any other client gets it
        assert bare.execute("SHOW TimeZone").fetchone()[0] == ZONE

    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            zone = connection.execute(text("SHOW TimeZone")).scalar()
            value = connection.execute(text("SELECT CAST(:at AS TIMESTAMPTZ)"), {"at": SPRING_FORWARD}).scalar()
            connection.rollback()
            after_rollback = connection.execute(text("SHOW TimeZone")).scalar()
    finally:
        engine.dispose()

    assert zone == "UTC" and after_rollback == "UTC"
    assert value == SPRING_FORWARD and value.tzinfo is UTC
