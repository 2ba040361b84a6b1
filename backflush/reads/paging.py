"""Keyset pages: rows after a cursor id, stable while a list grows (offsets are not)."""
from __future__ import annotations

from dataclasses import dataclass

MAX_PAGE = 200
DEFAULT_PAGE = 50


@dataclass(frozen=True)
class Page:
    rows: list
    has_next: bool
    has_previous: bool


def keyset_page(session, statement, model, *, first: int | None, after_id: int | None) -> Page:
    size = max(1, min(first or DEFAULT_PAGE, MAX_PAGE))
    if after_id is not None:
        statement = statement.where(model.id > after_id)
    rows = list(session.scalars(statement.order_by(model.id).limit(size + 1)))
    return Page(rows=rows[:size], has_next=len(rows) > size, has_previous=after_id is not None)
