"""Replicas start together: several processes migrate one fresh PostgreSQL database at once, and all succeed."""
from __future__ import annotations

import subprocess
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

import models
from kernel.database import build_engine
from kernel.migrations import alembic_config
from models import RuleSet
from tests.conftest import _admin_engine, _pg_url, on_postgres
from tests.ops import served

pytestmark = pytest.mark.skipif(not on_postgres(), reason="the advisory lock is PostgreSQL's; SQLite serializes writers")

REPLICAS = 4


@pytest.fixture
def fresh_database():
    name = f"bf_fresh_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_several_processes_migrate_a_fresh_database_at_once_and_all_succeed(fresh_database, engine):
    env = served.environment(fresh_database)
    processes = [subprocess.Popen([str(served.BIN / "backflush"), "migrate"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(REPLICAS)]
    results = [(process.wait(timeout=180), process.stdout.read()) for process in processes]

    assert [code for code, _ in results] == [0] * REPLICAS, [out[-1500:] for _, out in results]
    migrated = build_engine(fresh_database)
    try:
        with migrated.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, models.metadata) == []
            assert context.get_current_heads() == tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
            shipped = connection.scalar(select(func.count()).select_from(RuleSet))
        with engine.connect() as template_copy:  # migrated once, alone: the reference
            assert shipped == template_copy.scalar(select(func.count()).select_from(RuleSet)) > 0
    finally:
        migrated.dispose()
