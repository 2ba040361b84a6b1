"""SPEC §4.1: how much of each component a trigger consumes, exactly.

The cumulative figure of a line is an exact rational (`Fraction`) until it is rounded, once, to the
component's precision; only then does it become a `Decimal` quantity. Keeping the ratio exact is why
six parent units of "1 carton per 12" are exactly half a carton (HALF_UP: 1), where a Decimal 1/12
multiplied by six would be 0.4999… and round to nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from backflush.core.error_codes import ErrorCode
from backflush.core.quantity import CONTEXT, HUNDRED, ZERO, parse_decimal, quantize
from backflush.core.vocabulary import PostingMethod

BACKFLUSH = PostingMethod.BACKFLUSH
MAX_PHANTOM_DEPTH = 10


class MasterDataError(Exception):
    """Master data that approval should have refused reached a posting; nothing may be planned."""

    code = ErrorCode.MASTER_DATA

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class MissingConversion(MasterDataError):
    code = ErrorCode.MISSING_CONVERSION


class PhantomCycle(MasterDataError):
    code = ErrorCode.PHANTOM_CYCLE


class PhantomTooDeep(MasterDataError):
    code = ErrorCode.PHANTOM_TOO_DEEP


class PhantomBomMissing(MasterDataError):
    code = ErrorCode.PHANTOM_BOM_MISSING


class UnknownAlternate(MasterDataError):
    code = ErrorCode.UNKNOWN_ALTERNATE


def coerce_decimals(record: object, *names: str) -> None:
    """Normalise a frozen record's quantity fields to Decimal; a float is refused, never rounded in."""
    for name in names:
        value = getattr(record, name)
        if value is not None:
            object.__setattr__(record, name, parse_decimal(value))


@dataclass(frozen=True)
class Component:
    code: str
    base_uom: str
    precision: int
    rounding: str = "HALF_UP"
    phantom: bool = False
    serialized: bool = False


@dataclass(frozen=True)
class Alternate:
    component: Component
    ratio: Decimal  # alternate quantity (its base uom) per one unit of the primary
    priority: int = 1

    def __post_init__(self) -> None:
        coerce_decimals(self, "ratio")


@dataclass(frozen=True)
class BomLine:
    line_no: int
    component: Component
    quantity: Decimal  # per Bom.base_quantity parent units, in `uom`
    uom: str
    scrap_percent: Decimal = ZERO
    setup_scrap: Decimal = ZERO
    yield_percent: Decimal = HUNDRED
    operation_seq: int | None = None  # None: the last operation
    posting_method: str = BACKFLUSH
    alternates: tuple[Alternate, ...] = ()

    def __post_init__(self) -> None:
        coerce_decimals(self, "quantity", "scrap_percent", "setup_scrap", "yield_percent")


@dataclass(frozen=True)
class Bom:
    item_code: str
    lines: tuple[BomLine, ...]
    base_quantity: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        coerce_decimals(self, "base_quantity")


@dataclass(frozen=True)
class Conversion:
    from_uom: str
    to_uom: str
    factor: Decimal  # to_quantity = from_quantity × factor
    item_code: str | None = None  # None: a global conversion

    def __post_init__(self) -> None:
        coerce_decimals(self, "factor")


@dataclass(frozen=True)
class LotFactor:
    """A lot's own measured factor (density, potency), preferred over item and global ones."""

    from_uom: str
    to_uom: str
    factor: Decimal

    def __post_init__(self) -> None:
        coerce_decimals(self, "factor")


@dataclass(frozen=True)
class Factor:
    """A resolved conversion: `recorded` is what a posting stores, `exact` what the math uses."""

    stored: Decimal
    inverted: bool
    source: str  # LOT, ITEM, GLOBAL or SAME_UOM

    @property
    def exact(self) -> Fraction:
        return 1 / Fraction(self.stored) if self.inverted else Fraction(self.stored)

    @property
    def recorded(self) -> Decimal:
        return CONTEXT.divide(Decimal(1), self.stored) if self.inverted else self.stored


@dataclass(frozen=True)
class PriorPosting:
    """A non-reversed posting already booked for a line of this work order."""

    line_no: int
    component_code: str
    quantity: Decimal  # in component_code's base uom
    substitutes_for: str | None = None
    line_quantity: Decimal | None = None  # set when it was posted through a lot-specific factor

    def __post_init__(self) -> None:
        coerce_decimals(self, "quantity", "line_quantity")


@dataclass(frozen=True)
class FlushLine:
    """A BOM line after phantom explosion: exact cumulative need = per_unit × units + setup, in uom."""

    line_no: int
    component: Component
    uom: str
    per_unit: Fraction
    setup: Fraction
    operation_seq: int | None
    posting_method: str
    alternates: tuple[Alternate, ...]


@dataclass(frozen=True)
class LineUsage:
    """What one line needs from this trigger, in `uom` (base uom, or line uom under lot factors)."""

    line: FlushLine
    uom: str
    in_line_uom: bool
    target: Decimal
    posted: Decimal
    to_post: Decimal


def to_decimal(value: Fraction) -> Decimal:
    return CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def round_for(component: Component, value: Fraction, rounding: str | None = None) -> Decimal:
    return quantize(to_decimal(value), component.precision, rounding or component.rounding)


def find_factor(*, item_code: str, from_uom: str, to_uom: str, conversions: Iterable[Conversion],
                lot_factors: Iterable[LotFactor] = ()) -> Factor:
    """The factor from_uom → to_uom with precedence lot > item > global; never a silent 1:1."""
    if from_uom == to_uom:
        return Factor(Decimal(1), inverted=False, source="SAME_UOM")
    conversions = tuple(conversions)
    levels = (
        ("LOT", tuple(lot_factors)),
        ("ITEM", tuple(c for c in conversions if c.item_code == item_code)),
        ("GLOBAL", tuple(c for c in conversions if c.item_code is None)),
    )
    for source, level in levels:
        factor = _factor_within(level, source=source, from_uom=from_uom, to_uom=to_uom)
        if factor is not None:
            return factor
    raise MissingConversion(f"no conversion {from_uom} → {to_uom} for item {item_code}")


def _factor_within(level: Sequence[Conversion | LotFactor], *, source: str, from_uom: str,
                   to_uom: str) -> Factor | None:
    for conversion in level:
        if (conversion.from_uom, conversion.to_uom) == (from_uom, to_uom):
            return Factor(conversion.factor, inverted=False, source=source)
    for conversion in level:
        if (conversion.from_uom, conversion.to_uom) == (to_uom, from_uom):
            return Factor(conversion.factor, inverted=True, source=source)
    return None


def convert(quantity: Decimal, *, item_code: str, from_uom: str, to_uom: str,
            conversions: Iterable[Conversion], lot_factors: Iterable[LotFactor] = ()) -> Decimal:
    """Full-precision conversion (not rounded to the item's precision)."""
    factor = find_factor(item_code=item_code, from_uom=from_uom, to_uom=to_uom, conversions=conversions,
                         lot_factors=lot_factors)
    return to_decimal(Fraction(quantity) * factor.exact)


def explode(bom: Bom, *, phantom_boms: Mapping[str, Bom], conversions: Iterable[Conversion]) -> tuple[FlushLine, ...]:
    """The lines a posting flushes: phantom components replaced by their own BOM lines, multiplied."""
    conversions = tuple(conversions)
    flush_lines: list[FlushLine] = []
    for line in bom.lines:
        top = FlushLine(line.line_no, line.component, line.uom, _rate(line, bom.base_quantity),
                        Fraction(line.setup_scrap), line.operation_seq, line.posting_method, line.alternates)
        flush_lines.extend(_expand(top, phantom_boms=phantom_boms, conversions=conversions, path=(bom.item_code,)))
    return tuple(flush_lines)


def _rate(line: BomLine, base_quantity: Decimal) -> Fraction:
    return (Fraction(line.quantity) / Fraction(base_quantity)
            * (1 + Fraction(line.scrap_percent) / 100) / (Fraction(line.yield_percent) / 100))


def _expand(line: FlushLine, *, phantom_boms: Mapping[str, Bom], conversions: tuple[Conversion, ...],
            path: tuple[str, ...]) -> list[FlushLine]:
    phantom = line.component
    if not phantom.phantom:
        return [line]
    if phantom.code in path:
        raise PhantomCycle(f"phantom {phantom.code} contains itself: {' → '.join(path + (phantom.code,))}")
    if len(path) > MAX_PHANTOM_DEPTH:  # path holds the parent item plus every phantom level above
        raise PhantomTooDeep(f"phantom explosion deeper than {MAX_PHANTOM_DEPTH} under line {line.line_no}")
    bom = phantom_boms.get(phantom.code)
    if bom is None:
        raise PhantomBomMissing(f"phantom {phantom.code} has no approved BOM")
    # The phantom BOM's base quantity is stated in the phantom item's base uom.
    to_base = find_factor(item_code=phantom.code, from_uom=line.uom, to_uom=phantom.base_uom,
                          conversions=conversions).exact
    expanded: list[FlushLine] = []
    for child in bom.lines:
        rate = to_base * _rate(child, bom.base_quantity)
        nested = FlushLine(
            line.line_no, child.component, child.uom, line.per_unit * rate,
            line.setup * rate + Fraction(child.setup_scrap), line.operation_seq,
            # A phantom line that is not flushed takes its whole sub-assembly with it.
            child.posting_method if line.posting_method == BACKFLUSH else line.posting_method,
            child.alternates)
        expanded.extend(_expand(nested, phantom_boms=phantom_boms, conversions=conversions,
                                path=path + (phantom.code,)))
    return expanded


def target_cumulative(line: FlushLine, *, units: Decimal, conversions: Iterable[Conversion],
                      in_line_uom: bool = False) -> Decimal:
    """target_cum(L): the exact cumulative need, converted, rounded once with the component's rule."""
    exact = line.per_unit * Fraction(units) + line.setup
    if not in_line_uom:
        exact *= find_factor(item_code=line.component.code, from_uom=line.uom, to_uom=line.component.base_uom,
                             conversions=conversions).exact
    return round_for(line.component, exact)


def posted_for_line(line: FlushLine, prior: Iterable[PriorPosting], *, conversions: Iterable[Conversion],
                    in_line_uom: bool = False) -> Fraction:
    """Σ already posted for the line in its tracking uom; an alternate counts as alt_qty ÷ ratio."""
    conversions = tuple(conversions)
    ratios = {alternate.component.code: Fraction(alternate.ratio) for alternate in line.alternates}
    total = Fraction(0)
    for posting in prior:
        if posting.line_no != line.line_no:
            continue
        if posting.substitutes_for is None and posting.component_code == line.component.code:
            total += _primary_credit(posting, line, conversions=conversions, in_line_uom=in_line_uom)
        elif posting.substitutes_for == line.component.code:
            if posting.component_code not in ratios:
                raise UnknownAlternate(f"{posting.component_code} is not an alternate of line {line.line_no}")
            total += Fraction(posting.quantity) / ratios[posting.component_code]
    return total


def _primary_credit(posting: PriorPosting, line: FlushLine, *, conversions: tuple[Conversion, ...],
                    in_line_uom: bool) -> Fraction:
    if not in_line_uom:
        return Fraction(posting.quantity)
    if posting.line_quantity is not None:
        return Fraction(posting.line_quantity)
    # Posted before the lot carried its own factor: read it back through the item/global conversion.
    back = find_factor(item_code=line.component.code, from_uom=line.component.base_uom, to_uom=line.uom,
                       conversions=conversions)
    return Fraction(posting.quantity) * back.exact


def line_usage(line: FlushLine, *, units: Decimal, prior: Iterable[PriorPosting], conversions: Iterable[Conversion],
               in_line_uom: bool = False) -> LineUsage:
    """to_post(L) = target_cum(L) − already posted, never negative (over-posting is not given back)."""
    conversions = tuple(conversions)
    target = target_cumulative(line, units=units, conversions=conversions, in_line_uom=in_line_uom)
    posted = posted_for_line(line, prior, conversions=conversions, in_line_uom=in_line_uom)
    outstanding = round_for(line.component, Fraction(target) - posted)
    to_post = outstanding if outstanding > 0 else quantize(ZERO, line.component.precision)
    return LineUsage(line, line.uom if in_line_uom else line.component.base_uom, in_line_uom,
                     target, round_for(line.component, posted), to_post)
