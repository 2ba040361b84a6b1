"""Column types that keep quantities exact and times in UTC on every database we run on."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

PG_NUMERIC_OID = 1700  # the type code psycopg reports for a NUMERIC column


class Quantity(TypeDecorator):
    """Unconstrained NUMERIC on PostgreSQL, which keeps the scale a value was written with ("6.000"
    stays "6.000"); text on SQLite, whose NUMERIC affinity would store a float."""

    impl = Numeric(asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"quantities must be Decimal, got {type(value).__name__}")
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value

    def result_processor(self, dialect, coltype):
        """None (nothing to do per value) where the driver hands a NUMERIC column back as Decimal itself:
        psycopg on PostgreSQL. A genealogy tree or a posting reads thousands of quantities (issue 12)."""
        if dialect.name == "postgresql" and coltype == PG_NUMERIC_OID:
            return None
        return super().result_processor(dialect, coltype)


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the system stores UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def non_negative(column: str) -> str:
    """CHECK text valid on both databases: SQLite holds quantities as text, so compare numerically."""
    return f"CAST({column} AS NUMERIC) >= 0"


# Deterministic constraint names, so migrations can name what they alter on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
