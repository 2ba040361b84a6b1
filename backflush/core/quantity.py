"""The one place that turns text into quantities and rounds them.

Quantities and money are `Decimal` from end to end. Floats are refused on entry, because a float
that reached this far has already lost digits that nobody can give back.
"""
from __future__ import annotations

import decimal
from datetime import datetime
from decimal import Decimal

# Wide enough that no intermediate of the SPEC §4.1 formula is ever rounded by the context.
CONTEXT = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_UP, traps=[decimal.InvalidOperation, decimal.DivisionByZero])

ROUNDING_MODES = {
    "HALF_UP": decimal.ROUND_HALF_UP,
    "UP": decimal.ROUND_UP,
    "DOWN": decimal.ROUND_DOWN,
}

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class InvalidQuantity(ValueError):
    """The text is not a finite decimal number."""


def parse_decimal(value: str | int | Decimal) -> Decimal:
    """Read a quantity from the wire: a string such as "0.5202", an int, or a Decimal."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidQuantity(f"{value!r} is not a decimal string")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = Decimal(text)
        except decimal.InvalidOperation:
            raise InvalidQuantity(f"{value!r} is not a decimal number") from None
    else:
        raise InvalidQuantity(f"{value!r} is not a decimal number")
    if not result.is_finite():
        raise InvalidQuantity(f"{value!r} is not a finite decimal number")
    return result


def quantize(value: Decimal, precision: int, rounding: str = "HALF_UP") -> Decimal:
    """Round to `precision` decimal places with an item's rounding mode (HALF_UP, UP, DOWN).

    UP and DOWN are away from and towards zero, as `decimal` defines them.
    """
    exponent = Decimal(1).scaleb(-precision)
    return value.quantize(exponent, rounding=ROUNDING_MODES[rounding], context=CONTEXT)


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """`end − start` in seconds, exactly: microseconds kept, never through a float."""
    delta = end - start
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def to_wire(value: Decimal | None) -> str | None:
    """Plain notation for clients: never an exponent, trailing zeros kept as scaled."""
    if value is None:
        return None
    return format(value, "f")
