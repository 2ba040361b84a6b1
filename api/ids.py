"""Opaque global IDs (Relay): base64 of "Type:pk". Clients must not parse them."""
from __future__ import annotations

import base64
import binascii


def encode(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode(global_id: str | None, expected: str | None = None) -> tuple[str, int] | None:
    """(type, pk), or None when the id is malformed or names another type: both read as "not found"."""
    if not global_id:
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if expected is not None and type_name != expected:
        return None
    return type_name, number


def pk_of(global_id: str | None, expected: str) -> int | None:
    decoded = decode(global_id, expected)
    return decoded[1] if decoded else None
