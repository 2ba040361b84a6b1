"""The Relay Node interface, page info and keyset pagination."""
from __future__ import annotations

import base64
from functools import lru_cache

import strawberry
from strawberry.types.base import get_object_definition

from api import ids


@strawberry.interface
class Node:
    pk: strawberry.Private[int]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return _global_id(_NAMES.get(type(self)) or type(self).graphql_name(), self.pk)

    @classmethod
    def graphql_name(cls) -> str:
        name = _NAMES.get(cls)
        if name is None:
            name = _NAMES[cls] = get_object_definition(cls, strict=True).name
        return name


_NAMES: dict[type, str] = {}  # a node class's GraphQL name, looked up once (a big tree asks thousands of times)


@lru_cache(maxsize=65536)  # a 1,000-lot genealogy tree asks ~3,000 times: one look-up, not three calls
def _global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(ids.encode(type_name, pk))


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def cursor_of(pk: int) -> str:
    return base64.urlsafe_b64encode(f"k:{pk}".encode()).decode()


def after_pk(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        prefix, _, pk = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        in_range = prefix == "k" and pk.isascii() and pk.isdigit() and int(pk) <= ids.MAX_PK
        return int(pk) if in_range else None
    except Exception:  # a garbled cursor starts from the beginning rather than failing the page
        return None


def page_info(page) -> PageInfo:
    return PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous,
                    start_cursor=cursor_of(page.rows[0].id) if page.rows else None,
                    end_cursor=cursor_of(page.rows[-1].id) if page.rows else None)
