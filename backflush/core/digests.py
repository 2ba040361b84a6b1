"""Canonical JSON and SHA-256: the one text form that is hashed, and the one hash.

Standard library only: the audit trail, QA's rules and the idempotency hash all use it. Each caller
says how its own values become text (`plain`): those forms are baked into hashes already stored
(audit rows keep a Decimal's scale, rule inputs normalise it), so they are kept apart on purpose.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any


def canonical_json(value: object, *, plain: Callable[[Any], object], ensure_ascii: bool = True) -> str:
    """Sorted keys, no spaces; `plain` turns what JSON cannot hold (Decimals, times) into text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii, default=plain)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
