"""The one text form that is hashed and signed: sorted-key JSON, Decimals as text, times in UTC."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from backflush.core.digests import canonical_json, sha256

__all__ = ["canonical", "sha256", "utc_text"]


def canonical(value) -> str:
    """Stable JSON for hashing: sorted keys, no spaces, Decimals and datetimes as text."""
    return canonical_json(value, plain=_plain)


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return utc_text(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def utc_text(value: datetime) -> str:
    """An instant in its one hashed form. The database hands every time back in UTC, so a time hashed
    with the offset it arrived with (+01:00) would never verify again.

    A naive datetime is refused: it names no instant, and guessing UTC would hash a value that may not
    be the one stored. Times reach the audit module from UtcDateTime columns or `utcnow()`, both aware;
    device times are refused without a zone at the API door — so a naive one here is a programming error.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"naive datetime {value.isoformat()} cannot be hashed: it names no instant")
    return value.astimezone(UTC).isoformat()
