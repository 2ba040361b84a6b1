"""Engines and units of work. A unit of work rolls back unless the service commits."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Delete, Update, create_engine, event
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker


def build_engine(database_url: str, **kwargs) -> Engine:
    url = _driver_url(database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _make_sqlite_transactions_serializable(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _read_times_in_utc(engine)
    return engine


def _driver_url(database_url: str) -> str:
    # Operators write postgresql://; we speak psycopg 3.
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return database_url


def _read_times_in_utc(engine: Engine) -> None:
    """Every PostgreSQL session speaks UTC, whatever the server's or the database's default zone: psycopg then
    hands times back with the UTC tzinfo itself, which UtcDateTime passes through, instead of a zone it
    converts every value from (a thousand-lot genealogy tree spent a tenth of its time there, issue 12). The
    SET is a session parameter PgBouncer tracks, so it holds through a transaction pooler too."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.autocommit = autocommit


def _make_sqlite_transactions_serializable(engine: Engine) -> None:
    """SQLite has no SELECT … FOR UPDATE: every transaction takes the write lock up front instead."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


RowT = TypeVar("RowT")


def referenced_row(session: Session, model: type[RowT], pk: int) -> RowT:
    """The row a foreign key (or a stored reference) names: present by the database's constraints, so its
    absence is a broken invariant rather than a caller's mistake."""
    row = session.get(model, pk)
    if row is None:
        raise LookupError(f"{model.__name__} {pk} is referenced but does not exist")
    return row


def session_factory(engine: Engine, info: dict | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One command, one transaction: leaving without `session.commit()` rolls back."""
    session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def rows_changed(session: Session, statement: Delete | Update) -> int:
    """Execute a bulk DELETE or UPDATE; how many rows it matched (the ORM hands back the cursor's result)."""
    result = session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"a bulk {type(statement).__name__} returned {type(result).__name__}, not a cursor result")
    return result.rowcount
