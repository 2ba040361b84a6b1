"""Stored rows as the type checker should see them.

SQLModel declares a surrogate key `id: int | None` because it is None until the row is flushed; a row read
back from the database, or flushed, has one. And `session.get()` answers `Row | None` even where a foreign
key guarantees the row. These two say so once, and fail loudly if the guarantee is ever broken.
"""
from __future__ import annotations

from typing import Protocol, TypeVar

T = TypeVar("T")


class _Keyed(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Keyed) -> int:
    """The primary key of a row that has been flushed or read from the database."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no primary key yet: flush it first")
    return row.id


def present(row: T | None, what: str) -> T:
    """A row that a foreign key (or an earlier check in the same transaction) guarantees exists."""
    if row is None:
        raise RuntimeError(f"{what} missing although a reference guarantees it")
    return row
