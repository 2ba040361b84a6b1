"""What a row read back from the database is known to have."""
from __future__ import annotations

from typing import Protocol


class _Keyed(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Keyed) -> int:
    """The primary key of a stored row. SQLModel types it `int | None` because a new row has none until
    it is flushed; reading it from a row that was never flushed is a programming error."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id: it was never flushed")
    return row.id
