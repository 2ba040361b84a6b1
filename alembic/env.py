"""Alembic runs as the schema owner (BACKFLUSH_MIGRATION_DATABASE_URL, else BACKFLUSH_DATABASE_URL), or on the
connection a caller hands it."""
import models
from alembic import context
from kernel.database import build_engine
from kernel.settings import Settings

target_metadata = models.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(Settings.from_env().schema_owner_url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
