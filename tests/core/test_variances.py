"""SPEC §4.5 close variances as pure arithmetic: the reference case and hand-computed ones."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from backflush.core.variances import AlternateTerms, LineTerms, component_variances, per_unit_rate, variance_percent

D = Decimal


def reference_line(scrap_units: str = "1") -> LineTerms:
    """0.5 kg/unit, scrap 2 %, setup 0.2 kg, one alternate at ratio 1.1 (SPEC §4.5)."""
    return LineTerms(line_no=1, component_code="RM", precision=3,
                     per_unit=per_unit_rate(quantity=D("0.5"), scrap_percent=D("2")), setup=Fraction(D("0.2")),
                     scrap_units=D(scrap_units), alternates=(AlternateTerms("ALT", D("1.1"), 3),))


def as_text(row) -> dict:
    return {name: None if value is None else format(value, "f") for name, value in (
        ("standard", row.standard), ("actual", row.actual), ("usage", row.usage), ("yield", row.yield_),
        ("mix", row.mix), ("residual", row.residual), ("percent", row.percent))}


def test_the_spec_reference_close_books_the_primary_and_the_alternate_exactly():
    # Triggers good 15 scrap 1, then good 4: 19 good; the primary issued 8.360 + 1.640, the alternate 0.440.
    primary, alternate = component_variances((reference_line(),), good_total=D(19),
                                             issued={(1, "RM"): D("10.000"), (1, "ALT"): D("0.440")})
    assert (primary.component_code, primary.substitutes_for) == ("RM", None)
    assert as_text(primary) == {"standard": "9.690", "actual": "10.000", "usage": "0.310", "yield": "0.710",
                                "mix": "-0.400", "residual": "0.000", "percent": "3.20"}
    assert (alternate.component_code, alternate.substitutes_for) == ("ALT", "RM")
    assert as_text(alternate) == {"standard": "0.000", "actual": "0.440", "usage": "0.440", "yield": "0.000",
                                  "mix": "0.440", "residual": "0.000", "percent": None}


def test_an_unused_alternate_books_no_row_and_no_mix():
    (primary,) = component_variances((reference_line(),), good_total=D(19), issued={(1, "RM"): D("10.400")})
    assert as_text(primary) == {"standard": "9.690", "actual": "10.400", "usage": "0.710", "yield": "0.710",
                                "mix": "0.000", "residual": "0.000", "percent": "7.33"}


def test_over_consumption_beyond_scrap_and_setup_shows_as_residual():
    # 20 good, no scrap: standard 10.200, yield = setup 0.200, mix -0.400; usage 0.010 leaves 0.210 unexplained.
    (primary, _) = component_variances((reference_line("0"),), good_total=D(20),
                                       issued={(1, "RM"): D("10.210"), (1, "ALT"): D("0.440")})
    assert as_text(primary)["residual"] == "0.210"
    assert primary.usage == primary.yield_ + primary.mix + primary.residual


def test_a_line_in_grams_of_a_kilogram_item_is_stated_in_kilograms_rounded_to_its_precision():
    line = LineTerms(2, "C", 4, per_unit_rate(quantity=D("0.5"), scrap_percent=D("2"), factor=D("0.001")),
                     Fraction(0), D("20"))
    (row,) = component_variances((line,), good_total=D(1000), issued={(2, "C"): D("0.5202")})
    assert as_text(row) == {"standard": "0.5100", "actual": "0.5202", "usage": "0.0102", "yield": "0.0102",
                            "mix": "0.0000", "residual": "0.0000", "percent": "2.00"}


def test_a_line_nothing_was_produced_for_has_no_percentage():
    line = LineTerms(1, "C", 0, Fraction(1), Fraction(5), D(0))
    (row,) = component_variances((line,), good_total=D(0), issued={(1, "C"): D("5")})
    assert (row.standard, row.yield_, row.residual, row.percent) == (D(0), D(5), D(0), None)


@pytest.mark.parametrize("usage, standard, percent", [
    ("0.310", "9.690", "3.20"), ("-0.485", "9.690", "-5.01"), ("1", "8", "12.50"), ("0.005", "100", "0.01"),
])
def test_variance_percent_rounds_half_up_to_two_places(usage, standard, percent):
    assert variance_percent(D(usage), D(standard)) == D(percent)
