"""SPEC §4.5: the usage variances a work order books at close, as plain arithmetic.

Everything is in the component's base uom. Standard, yield and mix are computed exactly (Fraction)
and rounded once to the component's precision; usage and residual are then taken from the rounded
figures, so every row adds up on paper: usage = yield + mix + residual.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from backflush.core.quantity import CONTEXT, quantize

PERCENT_PLACES = Decimal("0.01")
WIDE = CONTEXT  # no intermediate is rounded before the one quantize


@dataclass(frozen=True)
class AlternateTerms:
    component_code: str
    ratio: Decimal  # alternate quantity per one unit of the primary, both in base uom
    precision: int


@dataclass(frozen=True)
class LineTerms:
    """One BOM line (after phantom explosion), its rate already converted to the base uom."""

    line_no: int
    component_code: str
    precision: int
    per_unit: Fraction  # quantity/base × (1 + scrap%) / (yield%/100), in base uom per parent unit
    setup: Fraction  # setup scrap, once per order, in base uom
    scrap_units: Decimal  # net scrap reported at the line's operation
    alternates: tuple[AlternateTerms, ...] = ()


@dataclass(frozen=True)
class VarianceRow:
    line_no: int
    component_code: str
    substitutes_for: str | None  # set on an alternate's row
    standard: Decimal
    actual: Decimal
    usage: Decimal
    yield_: Decimal
    mix: Decimal
    residual: Decimal
    percent: Decimal | None  # None when there is no standard to compare with


def per_unit_rate(*, quantity: Decimal, base_quantity: Decimal = Decimal(1), scrap_percent: Decimal = Decimal(0),
                  yield_percent: Decimal = Decimal(100), factor: Decimal = Decimal(1)) -> Fraction:
    """per_unit(L) of a plain line; `factor` converts the line uom to the component's base uom."""
    return (Fraction(quantity) / Fraction(base_quantity) * (1 + Fraction(scrap_percent) / 100)
            / (Fraction(yield_percent) / 100) * Fraction(factor))


def component_variances(lines: tuple[LineTerms, ...], *, good_total: Decimal,
                        issued: Mapping[tuple[int, str], Decimal]) -> tuple[VarianceRow, ...]:
    """One row per line (its primary) and one per alternate actually used on that line.

    `issued` maps (line_no, component_code) to the net quantity issued for the line: backflush,
    scan and forward issues less reversed ones; returns are not issues.
    """
    rows: list[VarianceRow] = []
    for line in lines:
        used = [(alt, issued.get((line.line_no, alt.component_code), Decimal(0))) for alt in line.alternates]
        used = [(alt, quantity) for alt, quantity in used if quantity != 0]
        rows.append(_primary_row(line, good_total=good_total, actual=issued.get((line.line_no, line.component_code),
                                                                               Decimal(0)), used=used))
        rows.extend(_alternate_row(line, alt, quantity) for alt, quantity in used)
    return tuple(rows)


def _primary_row(line: LineTerms, *, good_total: Decimal, actual: Decimal,
                 used: list[tuple[AlternateTerms, Decimal]]) -> VarianceRow:
    standard = _round(Fraction(good_total) * line.per_unit, line.precision)
    yield_ = _round(Fraction(line.scrap_units) * line.per_unit + line.setup, line.precision)
    # The primary quantity the alternates displaced, as the planner credited them: alt_qty ÷ ratio.
    mix = _round(-sum((Fraction(quantity) / Fraction(alt.ratio) for alt, quantity in used), Fraction(0)),
                 line.precision)
    actual = _round(Fraction(actual), line.precision)
    usage = actual - standard
    return VarianceRow(line.line_no, line.component_code, None, standard, actual, usage, yield_, mix,
                       usage - yield_ - mix, variance_percent(usage, standard))


def _alternate_row(line: LineTerms, alt: AlternateTerms, quantity: Decimal) -> VarianceRow:
    actual = _round(Fraction(quantity), alt.precision)
    zero = _round(Fraction(0), alt.precision)
    return VarianceRow(line.line_no, alt.component_code, line.component_code, zero, actual, actual, zero, actual,
                       zero, None)


def variance_percent(usage: Decimal, standard: Decimal) -> Decimal | None:
    if standard == 0:
        return None
    return WIDE.divide(usage * 100, standard).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP, context=WIDE)


def report_round(value: Fraction, precision: int) -> Decimal:
    """A reported figure, rounded once to `precision` places, half up."""
    return _round(value, precision)


def _round(value: Fraction, precision: int) -> Decimal:
    # Reported figures round half up whatever the item's stock rounding: a variance is not a draw.
    exact = WIDE.divide(Decimal(value.numerator), Decimal(value.denominator))
    return quantize(exact, precision, "HALF_UP")
