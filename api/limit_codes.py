"""The codes of the abuse limits, as clients read them in `extensions.code` (docs/security.md)."""
from __future__ import annotations

from enum import StrEnum


class LimitCode(StrEnum):
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"  # over the cost budget
    QUERY_TIMEOUT = "QUERY_TIMEOUT"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    RATE_LIMITED = "RATE_LIMITED"
