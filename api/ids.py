"""Opaque global IDs (Relay): base64 of "Type:pk". Clients must not parse them."""
from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import overload

MAX_PK = 2 ** 31 - 1  # primary keys are 32-bit INTEGER columns on PostgreSQL


@lru_cache(maxsize=65536)  # a genealogy tree names each lot several times; ids never change
def encode(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode(global_id: str | None, expected: str | None = None) -> tuple[str, int] | None:
    """(type, pk), or None when the id is malformed or names another type: both read as "not found"."""
    if not global_id:
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(pk) if pk.isascii() and pk.isdigit() else -1  # int() would take "1_0" and "١٢"
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if expected is not None and type_name != expected:
        return None
    if not 0 < number <= MAX_PK:
        return None  # no row has it; the database would refuse to compare against it
    return type_name, number


NO_ROW = -1  # what a malformed or out-of-range id resolves to: never a row, and never taken for "not given"


@overload
def pk_of(global_id: str, expected: str) -> int: ...
@overload
def pk_of(global_id: None, expected: str) -> None: ...
@overload
def pk_of(global_id: str | None, expected: str) -> int | None: ...
def pk_of(global_id: str | None, expected: str) -> int | None:
    """The primary key, None when no id was given, NO_ROW when the id names nothing of that type."""
    if global_id is None:
        return None
    decoded = decode(global_id, expected)
    return decoded[1] if decoded else NO_ROW
