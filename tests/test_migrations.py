"""The migrations and the models describe the same schema, on whichever database the suite runs."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import models
from alembic import command
from kernel.database import build_engine
from kernel.migrations import alembic_config, upgrade
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


def test_migration_0010_gives_earlier_triggers_their_attempts_and_clears_a_posted_ones_block_reasons(engine, sessions):
    from sqlalchemy import select, update

    from models import Trigger, TriggerAttempt
    from tests.builders import Plant, line, post, qa_user, trigger

    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1", "kg")])
    order = plant.work_order("WO-1", "FG", "100")
    stuck = post(plant, trigger(order, "2")).trigger  # nothing staged: blocked
    plant.stage(order, plant.receive("C", "C-1", "10.000"), "10.000")
    clean = post(plant, trigger(order, "1")).trigger
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with sessions() as s:  # as 0007's code left them: a posted trigger kept its old reasons
        s.execute(update(Trigger).where(Trigger.id == stuck.id).values(
            outcome="POSTED", posted_at=stuck.first_blocked_at))
        s.commit()
    upgrade(engine)

    with sessions() as s:
        attempts = [(a.trigger_id, a.number, a.outcome, bool(a.block_reasons))
                    for a in s.scalars(select(TriggerAttempt).order_by(TriggerAttempt.trigger_id, TriggerAttempt.number))]
        reasons = s.scalar(select(Trigger.block_reasons).where(Trigger.id == stuck.id))
    assert attempts == [(stuck.id, 1, "BLOCKED", True), (stuck.id, 2, "POSTED", False), (clean.id, 1, "POSTED", False)]
    assert reasons is None
