"""Values a stored row is known to carry although its column is nullable.

SQLModel types a nullable column `X | None`; some rows have it set by construction (an issue's source bin,
a released order's output lot, a lot's receipt time). Rows themselves: `models.stored.stored_id` for a
flushed row's key, `kernel.database.referenced_row` for the row a foreign key names.
"""
from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None, what: str) -> T:
    """`value`, which the row's kind guarantees is set; raises if that guarantee is ever broken."""
    if value is None:
        raise RuntimeError(f"{what} missing although the row's kind guarantees it")
    return value
