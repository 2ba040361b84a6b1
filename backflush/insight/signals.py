"""Control-limit signals (SPEC §9) for the API and for the DEVIATION decision taken at close."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.principal import Principal
from backflush.insight.control_limits import ControlWindow, Limits, Signal, rounded, signals
from backflush.insight.usage_history import closed_order_usage, usage_series
from backflush.reads.records import visible_site_ids
from models import Item, WorkOrder


@dataclass(frozen=True)
class ControlSignal:
    item: Item  # the component
    work_order: WorkOrder
    usage_per_unit: Decimal  # rounded for reporting
    limits: Limits


def control_signals(session: Session, principal: Principal, *, item_code: str | None, since: datetime | None,
                    until: datetime | None, window: ControlWindow) -> list[ControlSignal]:
    """Signals of orders closed in [since, until) at the principal's sites; four statements in all."""
    rows = closed_order_usage(session, site_ids=visible_site_ids(session, principal), component_code=item_code,
                              until=until)
    closed_at = {row.work_order_id: row.closed_at for row in rows}
    found = [(key[2], signal) for key, series in usage_series(rows).items() for signal in signals(series, window)
             if _closed_since(closed_at[signal.point.work_order_id], since)]
    return _with_rows(session, found)


def closing_order_signals(session: Session, work_order: WorkOrder, window: ControlWindow) -> list[tuple[Item, Signal]]:
    """The signals of the order being closed (its variances booked, its status not yet CLOSED)."""
    rows = closed_order_usage(session, site_ids=[work_order.site_id], closing_order_id=work_order.id)
    found: list[tuple[int, Signal]] = []
    for key, series in usage_series(r for r in rows if r.key[1] == work_order.item_id).items():
        found.extend((key[2], s) for s in signals(series, window) if s.point.work_order_id == work_order.id)
    items = _by_id(session, Item, {component_id for component_id, _ in found})
    return [(items[component_id], signal) for component_id, signal in found]


def _closed_since(closed_at: datetime | None, since: datetime | None) -> bool:
    # None is the order closing right now (usage_history): later than any `since`
    return since is None or closed_at is None or closed_at >= since


def signal_fact(work_order: WorkOrder, product: Item, component: Item, signal: Signal) -> dict:
    """The `control_signal` fact the DEVIATION rule set sees."""
    limits = signal.limits
    usage = rounded(signal.point.usage_per_unit)
    return {"work_order_number": work_order.number, "item_code": product.code, "component_code": component.code,
            "usage_per_unit": usage, "mean": limits.mean, "sigma": limits.sigma, "lower_limit": limits.lower,
            "upper_limit": limits.upper, "sample_size": limits.sample_size,
            "direction": "ABOVE" if usage > limits.upper else "BELOW"}


def _with_rows(session: Session, found: list[tuple[int, Signal]]) -> list[ControlSignal]:
    items = _by_id(session, Item, {component_id for component_id, _ in found})
    orders = _by_id(session, WorkOrder, {signal.point.work_order_id for _, signal in found})
    result = [ControlSignal(items[component_id], orders[s.point.work_order_id], rounded(s.point.usage_per_unit), s.limits)
              for component_id, s in found]
    return sorted(result, key=lambda r: (r.item.code, r.work_order.closed_at, r.work_order.id))


def _by_id(session: Session, model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(sorted(ids))))}
