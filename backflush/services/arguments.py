"""Turn raw command arguments into validated values, each failure a coded DomainError."""
from __future__ import annotations

from decimal import Decimal

from backflush.core.quantity import InvalidQuantity, parse_wire_decimal, quantize
from kernel.errors import DomainError
from kernel.input_rules import text_refusal


def decimal_arg(value, field: str, *, positive: bool = False, non_negative: bool = False,
                default: Decimal | None = None) -> Decimal:
    if value is None:
        if default is None:
            raise DomainError("REQUIRED", f"{field} is required", ["input", field])
        return default
    try:
        number = parse_wire_decimal(value)
    except InvalidQuantity as error:
        raise DomainError(error.code, f"{field}: {error}", ["input", field]) from None
    if positive and number <= 0:
        raise DomainError("QUANTITY_NOT_POSITIVE", f"{field} must be greater than zero", ["input", field])
    if non_negative and number < 0:
        raise DomainError("QUANTITY_NEGATIVE", f"{field} must not be negative", ["input", field])
    return number


def fits_precision(value: Decimal, precision: int) -> bool:
    return value == quantize(value, precision)


def precise_arg(value: Decimal, precision: int, field: str, uom: str) -> Decimal:
    """Stock quantities carry at most the item's decimals: 0.0001 kg of a 3-decimal item is a typo."""
    if not fits_precision(value, precision):
        raise DomainError("QUANTITY_PRECISION", f"{field} has more than {precision} decimals for {uom}",
                          ["input", field])
    return quantize(value, precision)


def text_arg(value: str | None, field: str, *, max_length: int = 200, multiline: bool = False) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("REQUIRED", f"{field} is required", ["input", field])
    if refused := text_refusal(text, max_length=max_length, multiline=multiline, field=["input", field]):
        raise refused  # the API door has refused it already; this holds for the CLI and the demo seed too
    return text


def choice_arg(value: str, field: str, allowed: frozenset[str] | set[str]) -> str:
    if value not in allowed:
        raise DomainError("INVALID_CHOICE", f"{field} must be one of {', '.join(sorted(allowed))}", ["input", field])
    return value
