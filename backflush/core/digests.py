"""Canonical JSON and SHA-256: the one text form that is hashed, and the one hash.

Standard library only: the audit trail, QA's rules and the idempotency hash all use it. Each caller
says how its own values become text (`plain`): those forms are baked into hashes already stored
(audit rows keep a Decimal's scale, rule inputs normalise it), so they are kept apart on purpose.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any


def canonical_json(value: object, *, plain: Callable[[Any], object], ensure_ascii: bool = True) -> str:
    """Sorted keys, no spaces; `plain` turns what JSON cannot hold (Decimals, times) into text."""
    return _encoder(plain, ensure_ascii)(value)


@functools.lru_cache(maxsize=64)  # one per caller's `plain`: a handful
def _encoder(plain: Callable[[Any], object], ensure_ascii: bool) -> Callable[[object], str]:
    # Built once rather than by every json.dumps call; a value that contains itself recurses
    # without end instead of being caught, a check that cost every rule decision (issue 12)
    return json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii, default=plain,
                            check_circular=False).encode


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
