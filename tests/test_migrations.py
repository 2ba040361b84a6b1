"""The migrations and the models describe the same schema, on whichever database the suite runs."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import models
from kernel.database import build_engine
from kernel.migrations import alembic_config, upgrade
from alembic import command
from tests.conftest import on_postgres


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, models.metadata) == []


def test_migrations_downgrade_to_nothing_and_back(database_url):
    engine = build_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, models.metadata) == []
    engine.dispose()


@pytest.mark.skipif(not on_postgres(), reason="SQLite relies on the hash chain alone (test_audit_trail)")
@pytest.mark.parametrize("table, row", [
    ("auditrecord", "(seq, chain_seq, at, actor, action, entity_type, entity_id, prev_hash, hash) "
                    "VALUES (100000, 100000, now(), 'x', 'a', 'e', '1', 'p', 'h')"),
    ("auditcheckpoint", "(chain_seq, hash, at, key_id, signature) VALUES (1, 'h', now(), 'k', 's')"),
])
def test_postgresql_refuses_to_update_or_delete_audit_rows(engine, table, row):
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO {table} {row}"))
    for statement in (f"UPDATE {table} SET hash = 'y'", f"DELETE FROM {table}", f"TRUNCATE {table}"):
        with engine.connect() as connection:
            try:
                connection.execute(text(statement))
            except Exception as refused:
                assert "append-only" in str(refused)
            else:
                raise AssertionError(f"{statement} was allowed")
