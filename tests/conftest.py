"""Each database test gets its own, freshly migrated database.

SQLite (the default): a migrated template file is copied per test.
PostgreSQL (BACKFLUSH_TEST_DATABASE_URL=postgresql://…/anyname): a migrated template database is
created once per run and cloned per test with CREATE DATABASE … TEMPLATE, then dropped.
"""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from kernel.database import build_engine, session_factory
from kernel.migrations import upgrade

PG_URL = os.environ.get("BACKFLUSH_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    return PG_URL.startswith("postgresql")


def _admin_engine():
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    return make_url(PG_URL).set(drivername="postgresql+psycopg", database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    if not on_postgres():
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = build_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield str(path)
        return
    name = f"bf_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = build_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(template_database, tmp_path):
    if not on_postgres():
        path = tmp_path / "backflush.db"
        shutil.copyfile(template_database, path)
        yield f"sqlite:///{path}"
        return
    name = f"bf_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url):
    engine = build_engine(database_url)
    yield engine
    if on_postgres():
        _check_posted_totals(engine)
    engine.dispose()


def _check_posted_totals(engine) -> None:
    """Whatever a test wrote, the sums PostgreSQL keeps of each order's postings still add up (migration 0013)."""
    from backflush.services.trigger_facts import posted_totals_drift

    if not inspect(engine).has_table("postedlinetotal"):
        return  # a migration test left the schema elsewhere
    with session_factory(engine)() as session:
        assert posted_totals_drift(session) == [], "kept posted totals differ from the ledger"


@pytest.fixture
def sessions(engine):
    """The session factory a service is handed; tests open units of work from it."""
    return session_factory(engine)
