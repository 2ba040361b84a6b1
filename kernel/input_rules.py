"""What a text, date or time from a client must look like before any service or database sees it.

Each check returns the refusal as a coded `DomainError` (or None), so the API door can collect every
problem of a request in one pass. Standard library only: the rules are the same for any caller.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from kernel.errors import DomainError

# C0 and C1 controls (NUL included: PostgreSQL refuses it in text), DEL, lone UTF-16 surrogates (which
# cannot be encoded for the database), and the bidirectional overrides and isolates that make a lot
# number read differently from what it is ("Trojan Source").
_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
FORBIDDEN_IN_LINE = re.compile(f"[{_FORBIDDEN}\t\n\r]")
FORBIDDEN_IN_TEXT = re.compile(f"[{_FORBIDDEN}]")  # free text may keep tabs and line breaks

# Times outside this window are typos or probes; their arithmetic (to UTC, clock skew) would overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

# An expiry date this far back or ahead of today is a keying error (0001-01-01, 9999-12-31).
EXPIRY_PAST = timedelta(days=10 * 366)
EXPIRY_FUTURE = timedelta(days=50 * 366)


def text_refusal(value: str, *, max_length: int, multiline: bool, field: list[str]) -> DomainError | None:
    if len(value) > max_length:
        return DomainError("TOO_LONG", f"{_name(field)} is longer than {max_length} characters", field)
    found = (FORBIDDEN_IN_TEXT if multiline else FORBIDDEN_IN_LINE).search(value)
    if found:
        return DomainError("CONTROL_CHARACTER", f"{_name(field)} contains the control character "
                                                f"U+{ord(found.group()):04X} at position {found.start()}", field)
    return None


def datetime_refusal(value: object, field: list[str]) -> DomainError | None:
    if not isinstance(value, datetime):
        return DomainError("INVALID_DATETIME", f"{_name(field)} is not an ISO 8601 date and time", field)
    if value.tzinfo is None or value.utcoffset() is None:
        return DomainError("TIMEZONE_REQUIRED", f"{_name(field)} must carry a UTC offset (Z or ±hh:mm)", field)
    if not EARLIEST <= _utc(value) < LATEST:
        return DomainError("DATETIME_OUT_OF_RANGE", f"{_name(field)} must lie between {EARLIEST:%Y} and {LATEST:%Y}",
                           field)
    return None


def date_refusal(value: object, field: list[str]) -> DomainError | None:
    if not isinstance(value, date) or isinstance(value, datetime):
        return DomainError("INVALID_DATE", f"{_name(field)} is not a calendar date (YYYY-MM-DD)", field)
    return None  # how far back or ahead a date may lie is the rule of the field (expiry_refusal)


def expiry_refusal(expires_on: date, today: date, field: list[str]) -> DomainError | None:
    if not today - EXPIRY_PAST <= expires_on <= today + EXPIRY_FUTURE:
        return DomainError("EXPIRY_OUT_OF_RANGE", f"{_name(field)} {expires_on} is not within ten years before "
                                                  "and fifty years after today", field)
    return None


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC or 9999-12-31 west of it
        return EARLIEST - timedelta(days=1)


def _name(field: list[str]) -> str:
    return ".".join(part for part in field[1:] if not part.isdigit()) or field[-1]
