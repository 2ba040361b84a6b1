"""SPEC §4.2: which staged lots a line may draw from, in which order, and how much from each.

Allocation returns draws as data and writes nothing; the draw order is a named key function
(`fefo_key`), not comparison operators on the lots.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from backflush.core.quantity import ZERO, quantize
from backflush.core.usage import (
    Alternate,
    Component,
    Conversion,
    Factor,
    LineUsage,
    LotFactor,
    coerce_decimals,
    find_factor,
    round_for,
)
from backflush.core.vocabulary import LotStatus

RELEASED = LotStatus.RELEASED

Taken = Mapping[Hashable, Decimal]  # binding id → quantity already drawn by earlier lines of the plan


class Standing(StrEnum):
    """Why a staged binding can or cannot feed a line, first failing check wins."""

    ELIGIBLE = "ELIGIBLE"
    NOT_RELEASED = "NOT_RELEASED"
    EXPIRED = "EXPIRED"
    EXCLUDED = "EXCLUDED"
    OTHER_LOCATION = "OTHER_LOCATION"


@dataclass(frozen=True)
class Binding:
    """A quantity of a lot staged to this work order, with what is left of it (component base uom)."""

    binding_id: Hashable
    lot_id: Hashable
    lot_number: str
    item_code: str
    status: str
    expires_on: date | None
    received_at: datetime
    location_id: Hashable
    remaining: Decimal
    lot_factors: tuple[LotFactor, ...] = ()
    serials: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        coerce_decimals(self, "remaining")


@dataclass(frozen=True)
class Draw:
    line_no: int
    component_code: str
    substitutes_for: str | None
    binding_id: Hashable
    lot_id: Hashable
    lot_number: str
    location_id: Hashable
    quantity: Decimal  # component base uom
    uom: str
    line_quantity: Decimal | None = None  # only when drawn through a lot-specific factor
    line_uom: str | None = None
    factor: Decimal | None = None  # line uom → base uom, as used for this draw


def _nothing_excluded(binding: Binding) -> bool:
    return False


@dataclass(frozen=True)
class Eligibility:
    """The checks of §4.2 for one line: its operation's input location, the posting date, the rule seam."""

    location_id: Hashable
    posted_on: date
    excluded: Callable[[Binding], bool] = _nothing_excluded


@dataclass(frozen=True)
class LineAllocation:
    draws: tuple[Draw, ...]
    covered: bool
    eligible: Decimal  # primary-equivalent eligible quantity, in the usage's uom


def fefo_key(binding: Binding) -> tuple[bool, date, datetime, str, str]:
    """First expiring first (no expiry last), then first received, then lot number."""
    return (binding.expires_on is None, binding.expires_on or date.max, binding.received_at,
            binding.lot_number, str(binding.binding_id))


def standing(binding: Binding, rules: Eligibility) -> Standing:
    if binding.status != RELEASED:
        return Standing.NOT_RELEASED
    if binding.expires_on is not None and binding.expires_on < rules.posted_on:
        return Standing.EXPIRED
    if rules.excluded(binding):
        return Standing.EXCLUDED
    if binding.location_id != rules.location_id:
        return Standing.OTHER_LOCATION
    return Standing.ELIGIBLE


def with_draws(taken: Taken, draws: Iterable[Draw]) -> dict[Hashable, Decimal]:
    """`taken` after these draws: what every later draw of the same plan must leave alone."""
    after = dict(taken)
    for draw in draws:
        after[draw.binding_id] = after.get(draw.binding_id, ZERO) + draw.quantity
    return after


def available(binding: Binding, taken: Taken) -> Decimal:
    return binding.remaining - taken.get(binding.binding_id, ZERO)


def candidates(bindings: Iterable[Binding], *, item_code: str, rules: Eligibility, taken: Taken) -> tuple[Binding, ...]:
    """Eligible bindings of one item with something left, in draw order."""
    pool = [b for b in bindings if b.item_code == item_code and available(b, taken) > 0
            and standing(b, rules) is Standing.ELIGIBLE]
    return tuple(sorted(pool, key=fefo_key))


def allocate_line(usage: LineUsage, *, bindings: Iterable[Binding], rules: Eligibility, taken: Taken,
                  conversions: Iterable[Conversion]) -> LineAllocation:
    """Greedy draw of the primary, then alternates in priority order for whatever is still open."""
    bindings, conversions = tuple(bindings), tuple(conversions)
    line = usage.line
    primary = candidates(bindings, item_code=line.component.code, rules=rules, taken=taken)
    if usage.in_line_uom:
        draws, covered = _draw_through_lot_factors(usage, primary, taken=taken, conversions=conversions)
    else:
        draws, covered = _draw_in_base_uom(usage.to_post, primary, taken=taken,
                                           stamp=_Stamp(line.line_no, line.component, None))
    open_need = Fraction(usage.to_post - covered)
    for alternate in sorted(line.alternates, key=lambda a: a.priority):
        if open_need <= 0:
            break
        alternate_draws, open_need = _fill_with_alternate(usage, alternate, open_need, bindings=bindings,
                                                          rules=rules, taken=with_draws(taken, draws))
        draws.extend(alternate_draws)
    eligible = eligible_quantity(usage, bindings=bindings, rules=rules, taken=taken, conversions=conversions)
    return LineAllocation(tuple(draws), covered=open_need <= 0, eligible=eligible)


@dataclass(frozen=True)
class _Stamp:
    """What every draw of one line for one component records besides the lot and quantity."""

    line_no: int
    component: Component
    substitutes_for: str | None

    def draw(self, binding: Binding, quantity: Decimal, *, line_quantity: Decimal | None = None,
             line_uom: str | None = None, factor: Decimal | None = None) -> Draw:
        return Draw(self.line_no, self.component.code, self.substitutes_for, binding.binding_id, binding.lot_id,
                    binding.lot_number, binding.location_id, quantity, self.component.base_uom,
                    line_quantity=line_quantity, line_uom=line_uom, factor=factor)


def _draw_in_base_uom(need: Decimal, pool: Iterable[Binding], *, taken: Taken,
                      stamp: _Stamp) -> tuple[list[Draw], Decimal]:
    draws: list[Draw] = []
    drawn = ZERO
    for binding in pool:
        if drawn >= need:
            break
        # DOWN: a binding's stock can never be over-drawn by rounding.
        take = quantize(min(available(binding, taken), need - drawn), stamp.component.precision, "DOWN")
        if take > 0:
            draws.append(stamp.draw(binding, take))
            drawn += take
    return draws, drawn


def _draw_through_lot_factors(usage: LineUsage, pool: Iterable[Binding], *, taken: Taken,
                              conversions: tuple[Conversion, ...]) -> tuple[list[Draw], Decimal]:
    """The target is in the line uom; each lot converts its share with its own factor."""
    draws: list[Draw] = []
    covered = ZERO
    for binding in pool:
        open_line = usage.to_post - covered
        if open_line <= 0:
            break
        drawn = _draw_lot_in_line_uom(usage, binding, open_line, taken=taken, conversions=conversions)
        if drawn is not None:
            draw, line_quantity = drawn
            draws.append(draw)
            covered += line_quantity
    return draws, covered


def _draw_lot_in_line_uom(usage: LineUsage, binding: Binding, open_line: Decimal, *, taken: Taken,
                          conversions: tuple[Conversion, ...]) -> tuple[Draw, Decimal] | None:
    """The lot's draw and the line quantity it covers."""
    component = usage.line.component
    factor = lot_factor(usage, binding, conversions=conversions)
    stock = quantize(available(binding, taken), component.precision, "DOWN")
    whole_lot = Fraction(stock) / factor.exact
    if whole_lot <= open_line:
        # DOWN: the lot's last fraction of a line unit is left for the next lot to cover, so the
        # draws converted back never fall short of the target.
        quantity, line_quantity = stock, round_for(component, whole_lot, "DOWN")
    else:
        quantity = min(round_for(component, Fraction(open_line) * factor.exact), stock)
        line_quantity = open_line
    if quantity <= 0:
        return None
    draw = _Stamp(usage.line.line_no, component, None).draw(
        binding, quantity, line_quantity=line_quantity, line_uom=usage.line.uom, factor=factor.recorded)
    return draw, line_quantity


def _fill_with_alternate(usage: LineUsage, alternate: Alternate, open_need: Fraction, *, bindings: tuple[Binding, ...],
                         rules: Eligibility, taken: Taken) -> tuple[list[Draw], Fraction]:
    """alt_qty = open × ratio, rounded the alternate's way; returns the primary need still open."""
    component, ratio = alternate.component, Fraction(alternate.ratio)
    need = round_for(component, open_need * ratio)
    pool = candidates(bindings, item_code=component.code, rules=rules, taken=taken)
    draws, drawn = _draw_in_base_uom(need, pool, taken=taken,
                                     stamp=_Stamp(usage.line.line_no, component, usage.line.component.code))
    if drawn >= need:
        return draws, Fraction(0)
    return draws, open_need - Fraction(drawn) / ratio


def lot_factor(usage: LineUsage, binding: Binding, *, conversions: Iterable[Conversion]) -> Factor:
    line = usage.line
    return find_factor(item_code=line.component.code, from_uom=line.uom, to_uom=line.component.base_uom,
                       conversions=conversions, lot_factors=binding.lot_factors)


def in_usage_uom(usage: LineUsage, binding: Binding, *, taken: Taken, conversions: Iterable[Conversion]) -> Fraction:
    """What is left of a primary binding, expressed in the uom the line's usage is tracked in."""
    left = Fraction(available(binding, taken))
    return left / lot_factor(usage, binding, conversions=conversions).exact if usage.in_line_uom else left


def eligible_quantity(usage: LineUsage, *, bindings: Iterable[Binding], rules: Eligibility, taken: Taken,
                      conversions: Iterable[Conversion]) -> Decimal:
    """Eligible primary stock plus eligible alternates counted as alt_qty ÷ ratio, rounded down."""
    bindings, conversions = tuple(bindings), tuple(conversions)
    line = usage.line
    total = sum((in_usage_uom(usage, b, taken=taken, conversions=conversions)
                 for b in candidates(bindings, item_code=line.component.code, rules=rules, taken=taken)), Fraction(0))
    for alternate in line.alternates:
        pool = candidates(bindings, item_code=alternate.component.code, rules=rules, taken=taken)
        total += sum((Fraction(available(b, taken)) for b in pool), Fraction(0)) / Fraction(alternate.ratio)
    return round_for(line.component, total, "DOWN")


def standing_totals(usage: LineUsage, *, bindings: Iterable[Binding], rules: Eligibility, taken: Taken,
                    conversions: Iterable[Conversion]) -> dict[Standing, Fraction]:
    """The primary's staged stock with something left, summed by standing, in the usage's uom."""
    totals = {kind: Fraction(0) for kind in Standing}
    for binding in bindings:
        if binding.item_code == usage.line.component.code and available(binding, taken) > 0:
            totals[standing(binding, rules)] += in_usage_uom(usage, binding, taken=taken, conversions=conversions)
    return totals
