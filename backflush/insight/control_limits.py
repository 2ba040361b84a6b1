"""Control limits of usage per good unit (SPEC §9): mean ± 3σ of the previous closed orders.

Pure arithmetic on Decimals. σ is the population standard deviation of the reference orders: the
limits describe those orders themselves, not an estimate of some wider process. Each order is
compared with the orders of the same series that closed before it (at most `max_sample`, the most
recent ones); an order with fewer than `min_sample` predecessors is not judged. A point exactly on a
limit is inside.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

PLACES = Decimal("0.000001")  # what the API reports; comparisons use the unrounded figures
WIDE = Context(prec=50, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ControlWindow:
    min_sample: int = 8
    max_sample: int = 20

    def __post_init__(self) -> None:
        if not 2 <= self.min_sample <= self.max_sample:
            raise ValueError("control window: need 2 ≤ min_sample ≤ max_sample")


DEFAULT_WINDOW = ControlWindow()  # frozen: one shared default is safe


def window_of(settings) -> ControlWindow:
    """The window the service's settings configure (BACKFLUSH_CONTROL_MIN_SAMPLE / _MAX_SAMPLE)."""
    return ControlWindow(min_sample=settings.control_min_sample, max_sample=settings.control_max_sample)


@dataclass(frozen=True)
class UsagePoint:
    """One closed order's usage of one component, per good unit of the order's product."""

    work_order_id: int
    usage_per_unit: Decimal


@dataclass(frozen=True)
class Limits:
    mean: Decimal
    sigma: Decimal
    lower: Decimal
    upper: Decimal
    sample_size: int

    def rounded(self) -> Limits:
        return Limits(rounded(self.mean), rounded(self.sigma), rounded(self.lower), rounded(self.upper),
                      self.sample_size)


@dataclass(frozen=True)
class Signal:
    point: UsagePoint
    limits: Limits  # rounded for reporting


def limits_of(values: Sequence[Decimal]) -> Limits:
    n = Decimal(len(values))
    mean = WIDE.divide(sum(values, Decimal(0)), n)
    variance = WIDE.divide(sum((WIDE.power(v - mean, 2) for v in values), Decimal(0)), n)
    sigma = variance.sqrt(WIDE)
    spread = WIDE.multiply(3, sigma)
    return Limits(mean, sigma, mean - spread, mean + spread, len(values))


def judge(series: Sequence[UsagePoint], window: ControlWindow) -> list[tuple[UsagePoint, Limits]]:
    """Every point with enough predecessors, with the limits it was judged against (unrounded)."""
    judged = []
    for index, point in enumerate(series):
        previous = series[max(0, index - window.max_sample):index]
        if len(previous) >= window.min_sample:
            judged.append((point, limits_of([p.usage_per_unit for p in previous])))
    return judged


def signals(series: Sequence[UsagePoint], window: ControlWindow) -> list[Signal]:
    """The points of a chronological series that lie outside their limits."""
    return [Signal(point, limits.rounded()) for point, limits in judge(series, window)
            if not limits.lower <= point.usage_per_unit <= limits.upper]


def per_unit(quantity: Decimal, good_units: Decimal) -> Decimal:
    return WIDE.divide(quantity, good_units)


def rounded(value: Decimal) -> Decimal:
    return WIDE.quantize(value, PLACES)
