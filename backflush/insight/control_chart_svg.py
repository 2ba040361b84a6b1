"""A control chart as SVG: usage per good unit of each closed order, in closing order, with the mean
and mean ± 3σ each order was judged against (steps, since the window moves) and the signals ringed red.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backflush.insight import svg
from backflush.insight.control_limits import Limits

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 760, 300, 70, 20, 40, 60


@dataclass(frozen=True)
class ChartPoint:
    label: str  # the work order number
    usage_per_unit: Decimal
    limits: Limits | None  # None: too few earlier orders to judge it
    signal: bool
    current: bool = False  # the order the picture is drawn for


def control_chart_svg(*, title: str, uom: str, points: list[ChartPoint]) -> str:
    picture = svg.canvas(WIDTH, HEIGHT, title)
    svg.text(picture, LEFT, 22, title, font_weight="bold")
    if not points:
        svg.text(picture, LEFT, HEIGHT / 2, "no closed order yet")
        return svg.render(picture)
    values = [p.usage_per_unit for p in points] + [v for p in points if p.limits for v in (p.limits.lower, p.limits.upper)]
    low, high = min(values), max(values)
    spread = (high - low) or abs(high) or Decimal(1)
    low, high = low - spread / 10, high + spread / 10
    x = lambda i: LEFT + (WIDTH - LEFT - RIGHT) * (i + 0.5) / len(points)  # noqa: E731
    y = lambda v: TOP + float((high - v) / (high - low)) * (HEIGHT - TOP - BOTTOM)  # noqa: E731
    _axes(picture, low, high, y, uom)
    for name, pick, colour in (("upper limit", lambda lim: lim.upper, "#c62828"), ("mean", lambda lim: lim.mean, "#1565c0"),
                               ("lower limit", lambda lim: lim.lower, "#c62828")):
        steps = [(x(i) + dx, y(pick(p.limits))) for i, p in enumerate(points) if p.limits for dx in (-8, 8)]
        if steps:
            svg.polyline(picture, steps, fill="none", stroke=colour, stroke_width=1.2, class_=name.replace(" ", "-"),
                         stroke_dasharray=None if name == "mean" else "5 3")
    svg.polyline(picture, [(x(i), y(p.usage_per_unit)) for i, p in enumerate(points)], fill="none", stroke="#444")
    for i, point in enumerate(points):
        _point(picture, x(i), y(point.usage_per_unit), point)
    svg.text(picture, LEFT, HEIGHT - 12, "mean (blue) and mean ± 3σ (dashed red) of the earlier orders each order was "
             "judged against; red rings: signals", font_size=10)
    return svg.render(picture)


def _axes(picture, low: Decimal, high: Decimal, y, uom: str) -> None:
    svg.line(picture, LEFT, TOP, LEFT, HEIGHT - BOTTOM, stroke="#000")
    svg.line(picture, LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, HEIGHT - BOTTOM, stroke="#000")
    for fraction in (0, 0.5, 1):
        value = low + (high - low) * Decimal(str(fraction))
        svg.text(picture, 4, y(value) + 4, f"{value:.4f}", font_size=10)
    svg.text(picture, 4, TOP - 8, f"{uom} per unit", font_size=10)


def _point(picture, cx: float, cy: float, point: ChartPoint) -> None:
    mark = svg.group(picture, class_="point signal" if point.signal else "point", data_order=point.label)
    limits = (f"; limits {point.limits.lower:f} – {point.limits.upper:f} (n={point.limits.sample_size})"
              if point.limits else "; not judged (too few earlier orders)")
    svg.tooltip(mark, f"{point.label}: {point.usage_per_unit:f}{limits}")
    svg.circle(mark, cx, cy, 3.5, fill="#000" if not point.current else "#1565c0")
    if point.signal:
        svg.circle(mark, cx, cy, 8, fill="none", stroke="#c62828", stroke_width=2)
        svg.text(mark, cx + 10, cy - 8, point.label, font_size=10, fill="#c62828")
