"""Backflush health figures (SPEC §9) for a period and the principal's sites."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.quantity import seconds_between
from backflush.reads.genealogy import genealogy_completeness
from backflush.reads.records import visible_site_ids
from backflush.reads.work_center_variance import WorkCenterVariance, work_center_variances
from models import LedgerEntry, Trigger, WorkOrder

PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class Metrics:
    triggers: int
    blocked: int
    reversed: int
    exception_rate: Decimal  # (blocked + reversed) ÷ triggers, as a percentage
    mean_time_to_correction_seconds: Decimal | None
    genealogy_completeness: Decimal
    return_to_stock_compliance: Decimal | None
    usage_variance_by_work_center: list[WorkCenterVariance]


def backflush_metrics(session: Session, principal: Principal, *, since: datetime | None,
                      until: datetime | None) -> Metrics:
    site_ids = visible_site_ids(session, principal)
    statement = select(col(Trigger.first_blocked_at), col(Trigger.posted_at), col(Trigger.reversed))
    if site_ids is not None:
        statement = statement.where(col(Trigger.site_id).in_(site_ids))
    if since is not None:
        statement = statement.where(col(Trigger.received_at) >= since)
    if until is not None:
        statement = statement.where(col(Trigger.received_at) < until)
    rows = session.execute(statement).all()
    blocked = sum(1 for first_blocked, _, _ in rows if first_blocked is not None)
    reversed_count = sum(1 for *_, was_reversed in rows if was_reversed)
    corrections = [seconds_between(first_blocked, posted) for first_blocked, posted, _ in rows if first_blocked and posted]
    return Metrics(
        triggers=len(rows), blocked=blocked, reversed=reversed_count,
        exception_rate=_percent(blocked + reversed_count, len(rows)) or Decimal("0.00"),
        mean_time_to_correction_seconds=(sum(corrections, Decimal(0)) / len(corrections)).quantize(
            PERCENT, rounding=ROUND_HALF_UP)
        if corrections else None,
        genealogy_completeness=genealogy_completeness(session, site_ids=site_ids),
        return_to_stock_compliance=_return_compliance(session, site_ids, since, until),
        usage_variance_by_work_center=work_center_variances(
            session, closed_orders(site_ids, since, until).scalar_subquery()),
    )


def _return_compliance(session: Session, site_ids, since, until) -> Decimal | None:
    """% of orders closed in the period whose residuals all went back to stock (with scans), none scrapped."""
    closed = set(session.scalars(closed_orders(site_ids, since, until)))
    if not closed:
        return None
    scrapped = set(session.scalars(select(col(LedgerEntry.work_order_id)).where(
        col(LedgerEntry.work_order_id).in_(closed), col(LedgerEntry.kind) == "SCRAP")))
    return _percent(len(closed - scrapped), len(closed))


def closed_orders(site_ids, since, until):
    """The ids of the orders closed in [since, until) at `site_ids` (None: every site)."""
    statement = select(col(WorkOrder.id)).where(col(WorkOrder.status) == "CLOSED")
    if site_ids is not None:
        statement = statement.where(col(WorkOrder.site_id).in_(site_ids))
    if since is not None:
        statement = statement.where(col(WorkOrder.closed_at) >= since)
    if until is not None:
        statement = statement.where(col(WorkOrder.closed_at) < until)
    return statement


def _percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT, rounding=ROUND_HALF_UP)

