"""Per-request DataLoaders: one SQL statement per batch of keys, never one per row."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from strawberry.dataloader import DataLoader


class Loaders:
    """`by_id(Model)` loads rows by primary key; `by_column(Model, column)` loads lists of children."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions
        self._loaders: dict[Any, DataLoader] = {}

    def by_id(self, model) -> DataLoader:
        return self.custom(("id", model), lambda session, ids: _rows_by_id(session, model, ids))

    def by_column(self, model, column: str, order_by: str = "id") -> DataLoader:
        return self.custom(("column", model, column, order_by),
                           lambda session, ids: _rows_by_column(session, model, column, order_by, ids))

    def custom(self, name, query: Callable[[Session, list], list]) -> DataLoader:
        """A loader whose batch function is `query(session, keys) -> results in key order`."""
        if name not in self._loaders:
            self._loaders[name] = DataLoader(load_fn=self._batch(query))
        return self._loaders[name]

    def _batch(self, query: Callable[[Session, list], list]):
        async def load(keys: list) -> list:
            def run():
                with self._sessions() as session:
                    return query(session, list(keys))
            return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)  # reads: see Context.read
        return load


def _rows_by_id(session: Session, model, ids: list[int]) -> list:
    rows = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}
    return [rows.get(i) for i in ids]


def _rows_by_column(session: Session, model, column: str, order_by: str, ids: list[int]) -> list:
    grouped = defaultdict(list)
    statement = select(model).where(getattr(model, column).in_(ids)).order_by(getattr(model, order_by))
    for row in session.scalars(statement):
        grouped[getattr(row, column)].append(row)
    return [grouped.get(i, []) for i in ids]
