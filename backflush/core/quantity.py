"""The one place that turns text into quantities and rounds them.

Quantities and money are `Decimal` from end to end. Floats are refused on entry, because a float
that reached this far has already lost digits that nobody can give back.
"""
from __future__ import annotations

import decimal
import re
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
    """The text is not a decimal number in the wire grammar."""

    code = "INVALID_DECIMAL"


class QuantityOutOfRange(InvalidQuantity):
    """A well-formed number with more digits than any quantity, factor or cost carries."""

    code = "DECIMAL_OUT_OF_RANGE"


# The one wire grammar: ASCII digits, an optional sign and an optional point. No exponent, no "_",
# no full-width or other Unicode digits, no NaN or Infinity, no blanks (Python's Decimal takes all of them).
DECIMAL_GRAMMAR = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
MAX_INTEGER_DIGITS = 15  # a trillion kilograms is still a typo; NUMERIC and CONTEXT hold far more
MAX_FRACTION_DIGITS = 12  # item precision is at most 9; factors and ratios may carry a few more


def parse_decimal(value: str | int | Decimal) -> Decimal:
    """Read a quantity: a string in the wire grammar such as "0.5202", an int, or a finite Decimal."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidQuantity(f"{_shown(value)} is not a decimal string")
    if isinstance(value, str) and not DECIMAL_GRAMMAR.fullmatch(value):
        raise InvalidQuantity(f"{_shown(value)} is not a plain decimal number (digits 0-9, a sign, a point)")
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidQuantity(f"{_shown(value)} is not a finite decimal number")
    result = Decimal(value)
    return result.copy_abs() if result.is_zero() else result  # "-0" is zero, not a negative quantity


def parse_wire_decimal(value: str | int | Decimal) -> Decimal:
    """`parse_decimal` for a value a client sent: also within the digits any quantity, factor or cost has."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** MAX_INTEGER_DIGITS:
        raise QuantityOutOfRange(f"more than {MAX_INTEGER_DIGITS} digits before the point")
    longest = MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS + 2
    # Decimal() of a megabyte of digits is slow: refuse by length
    if isinstance(value, str) and len(value) > longest and DECIMAL_GRAMMAR.fullmatch(value):
        raise QuantityOutOfRange(f"more than {MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS} digits")
    result = parse_decimal(value)
    _, digits, exponent = result.as_tuple()
    assert isinstance(exponent, int)  # only NaN and Infinity have a letter here, and parse_decimal refuses them
    if len(digits) + exponent > MAX_INTEGER_DIGITS:
        raise QuantityOutOfRange(f"more than {MAX_INTEGER_DIGITS} digits before the point")
    if -exponent > MAX_FRACTION_DIGITS:
        raise QuantityOutOfRange(f"more than {MAX_FRACTION_DIGITS} digits after the point")
    return result


def _shown(value: object) -> str:
    """The offending value for a message: short, and without the characters that made it hostile."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
