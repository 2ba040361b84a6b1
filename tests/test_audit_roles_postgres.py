"""On PostgreSQL the schema owner migrates and the service runs as a role that may only INSERT and SELECT
the audit trail (issue 9 item 6): each role connects and shows what it can and cannot do."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.cli import main as backflush
from kernel import audit
from kernel.database import build_engine, session_factory
from tests.builders import Plant, line, post, qa_user, trigger
from tests.conftest import _admin_engine, _pg_url, on_postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not on_postgres(), reason="roles exist on PostgreSQL only"),
]

REFUSED_TO_THE_SERVICE = {
    "UPDATE auditrecord SET actor = 'mallory'": "permission denied",
    "DELETE FROM auditrecord": "permission denied",
    "TRUNCATE auditrecord": "permission denied",
    "UPDATE auditcheckpoint SET hash = 'x'": "permission denied",
    "DELETE FROM auditcheckpoint": "permission denied",
    "ALTER TABLE auditrecord DISABLE TRIGGER audit_record_append_only": "must be owner",
    "ALTER TABLE auditrecord DROP CONSTRAINT uq_auditrecord_hash": "must be owner",
    "DROP TRIGGER audit_record_append_only ON auditrecord": "must be owner",
    "SET session_replication_role = replica": "permission denied",
    "DELETE FROM alembic_version": "permission denied",
}


@pytest.fixture
def roles():
    """A database owned by a fresh owner role, and a fresh service role; names unique to this run."""
    suffix = uuid.uuid4().hex[:10]
    owner, service, database = f"bf_owner_{suffix}", f"bf_service_{suffix}", f"bf_roles_{suffix}"
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
        c.execute(text(f'CREATE ROLE "{service}" LOGIN'))
        c.execute(text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
    url = make_url(_pg_url(database)).set(password=None)  # the test cluster trusts local connections
    yield {"owner": owner, "service": service,
           "owner_url": url.set(username=owner).render_as_string(hide_password=False),
           "service_url": url.set(username=service).render_as_string(hide_password=False)}
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        c.execute(text(f'DROP ROLE IF EXISTS "{service}"'))
        c.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
    admin.dispose()


def refusal(engine, statement: str) -> str | None:
    with engine.connect() as connection:
        try:
            connection.execute(text(statement))
        except Exception as refused:
            return str(refused.orig if hasattr(refused, "orig") else refused)
        connection.rollback()
    return None


def test_the_owner_migrates_and_the_service_role_can_only_append_to_and_read_the_trail(roles, monkeypatch, capsys):
    # given migrations run as the owner (BACKFLUSH_MIGRATION_DATABASE_URL) while the service URL is another role
    monkeypatch.setenv("BACKFLUSH_DATABASE_URL", roles["service_url"])
    monkeypatch.setenv("BACKFLUSH_MIGRATION_DATABASE_URL", roles["owner_url"])
    assert backflush(["migrate"]) == 0
    owner, service = build_engine(roles["owner_url"]), build_engine(roles["service_url"])
    with owner.connect() as c:
        assert c.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'auditrecord'")).scalar() == roles["owner"]
    # and the owner grants the service its role
    assert backflush(["grant-service-role", roles["service"]]) == 0
    assert "GRANT SELECT, INSERT ON" in capsys.readouterr().out
    # then the service runs the plant: master data, receipts, staging, a posted trigger, audit rows in three chains
    sessions = session_factory(service)
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "0.5")])
    order = plant.work_order("WO-1", "FG", "10")
    plant.stage(order, plant.receive("C", "C-1", "100"), "10")
    assert post(plant, trigger(order, "2")).trigger.outcome == "POSTED"
    with sessions() as s:
        assert audit.verify(s).ok
    # but it cannot change, delete or truncate the trail, alter its tables or switch its triggers off
    refusals = {statement: refusal(service, statement) or "ALLOWED" for statement in REFUSED_TO_THE_SERVICE}
    assert [(statement, refusals[statement]) for statement, expected in REFUSED_TO_THE_SERVICE.items()
            if expected not in refusals[statement]] == []
    # while the owner, who could, is still refused by the append-only trigger unless it disables it (a DBA act)
    assert "append-only" in refusal(owner, "UPDATE auditrecord SET actor = 'mallory'")
    assert refusal(owner, "ALTER TABLE auditrecord DISABLE TRIGGER audit_record_append_only") is None
    owner.dispose()
    service.dispose()


def test_granting_the_service_role_to_the_owner_or_a_superuser_is_refused(roles, monkeypatch, capsys):
    monkeypatch.setenv("BACKFLUSH_DATABASE_URL", roles["owner_url"])
    assert backflush(["migrate"]) == 0
    assert backflush(["grant-service-role", roles["owner"]]) == 1
    assert backflush(["grant-service-role", "postgres"]) == 1
    assert backflush(["grant-service-role", "no_such_role_" + uuid.uuid4().hex[:6]]) == 1
    errors = capsys.readouterr().err
    assert "owns the tables" in errors and "is a superuser" in errors and "does not exist" in errors
