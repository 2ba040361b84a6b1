"""Apply the alembic migrations shipped with the package to a database."""
from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from alembic import command

ROOT = Path(__file__).resolve().parent.parent
# Any fixed number: PostgreSQL advisory locks are per database, so only this database's migrators queue on it.
MIGRATION_LOCK_KEY = 0x62666D6967  # "bfmig"


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Replicas that start together queue on a PostgreSQL advisory lock held until the migration commits:
    the first migrates, the others then find the schema at head and do nothing. (SQLite needs no lock:
    every transaction here begins IMMEDIATE, which already admits one writer at a time.)"""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
