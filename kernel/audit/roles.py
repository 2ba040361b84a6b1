"""The PostgreSQL role the service runs as: everything it needs, and on the audit trail only INSERT and SELECT.

Migrations run as the schema owner (BACKFLUSH_MIGRATION_DATABASE_URL); the service connects as another
role (BACKFLUSH_DATABASE_URL) that does not own the tables, so it cannot ALTER them or disable their
triggers, and is refused UPDATE, DELETE and TRUNCATE on the audit tables by its grants, before the
append-only triggers would refuse them too.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

AUDIT_TABLES = ("auditrecord", "auditcheckpoint")


class UnsafeServiceRole(Exception):
    """The role could tamper with the trail whatever its grants say (superuser, owner, member of the owner)."""


def service_role_grants(role: str, *, schema: str, quote) -> list[str]:
    """The statements, for a schema owner to run (or to read before running them)."""
    r, s = quote(role), quote(schema)
    audit_tables = ", ".join(f"{s}.{quote(t)}" for t in AUDIT_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"REVOKE ALL ON {audit_tables} FROM {r}",
        f"GRANT SELECT, INSERT ON {audit_tables} TO {r}",
        f"REVOKE ALL ON {s}.alembic_version FROM {r}",
        f"GRANT SELECT ON {s}.alembic_version TO {r}",
        # Tables later migrations create (as this owner) are the service's to use; a new audit-like table
        # must revoke what it should not allow in its own migration.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]


def grant_service_role(connection: Connection, role: str) -> list[str]:
    """Run as the schema owner, in the caller's transaction; returns the statements it ran."""
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    _require_safe(connection, role)
    statements = service_role_grants(role, schema=schema, quote=connection.dialect.identifier_preparer.quote)
    for statement in statements:
        connection.execute(text(statement))
    return statements


def _require_safe(connection: Connection, role: str) -> None:
    found = connection.execute(text(
        "SELECT r.rolsuper, pg_has_role(r.oid, c.relowner, 'MEMBER') AS owns "
        "FROM pg_roles r, pg_class c WHERE r.rolname = :role AND c.oid = 'auditrecord'::regclass"),
        {"role": role}).first()
    if found is None:
        raise UnsafeServiceRole(f"role {role} does not exist: CREATE ROLE {role} LOGIN PASSWORD '…' first")
    if found.rolsuper:
        raise UnsafeServiceRole(f"role {role} is a superuser: it could disable the audit trail's triggers")
    if found.owns:
        raise UnsafeServiceRole(f"role {role} owns the tables (or is a member of their owner): it could alter "
                                "them; run migrations as another role")
