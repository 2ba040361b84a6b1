"""Per-request DataLoaders: one SQL statement per batch of keys, never one per row."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

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
        key = ("id", model)
        if key not in self._loaders:
            self._loaders[key] = DataLoader(load_fn=self._batch(lambda ids: _rows_by_id(model, ids)))
        return self._loaders[key]

    def by_column(self, model, column: str, order_by: str = "id") -> DataLoader:
        key = ("column", model, column, order_by)
        if key not in self._loaders:
            self._loaders[key] = DataLoader(load_fn=self._batch(lambda ids: _rows_by_column(model, column, order_by, ids)))
        return self._loaders[key]

    def custom(self, name: str, query: Callable[[Session, list], list]) -> DataLoader:
        """A loader whose batch function is `query(session, keys) -> results in key order`."""
        key = ("custom", name)
        if key not in self._loaders:
            self._loaders[key] = DataLoader(load_fn=self._batch(lambda keys: query, raw=True))
        return self._loaders[key]

    def _batch(self, make_query, raw: bool = False):
        async def load(keys: list) -> list:
            def run():
                with self._sessions() as session:
                    if raw:
                        return make_query(keys)(session, list(keys))
                    return make_query(keys)(session)
            return await anyio.to_thread.run_sync(run)
        return load


def _rows_by_id(model, ids: list[int]):
    def query(session: Session) -> list:
        rows = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}
        return [rows.get(i) for i in ids]
    return query


def _rows_by_column(model, column: str, order_by: str, ids: list[int]):
    def query(session: Session) -> list:
        grouped = defaultdict(list)
        statement = select(model).where(getattr(model, column).in_(ids)).order_by(getattr(model, order_by))
        for row in session.scalars(statement):
            grouped[getattr(row, column)].append(row)
        return [grouped.get(i, []) for i in ids]
    return query
