"""Supplier-attributed usage variance (SPEC §9): each closed order's variance of a component is split
between the suppliers of the lots it actually drew, in proportion to the quantity drawn from each.

Shares are exact fractions; the sums are rounded once, to the component's precision, at the end.
Three statements whatever the number of orders.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from auth.principal import Principal
from backflush.core.variances import report_round, variance_percent
from backflush.reads.metrics import closed_orders
from backflush.reads.records import ISSUE_KINDS, visible_site_ids
from models import ComponentVariance, Item, LedgerEntry, Lot

NO_SUPPLIER = "UNKNOWN"  # lots received without a supplier still carry their share


@dataclass(frozen=True)
class SupplierVariance:
    supplier: str
    item: Item
    lots: int
    standard_quantity: Decimal
    actual_quantity: Decimal
    usage_variance: Decimal
    variance_percent: Decimal | None


def supplier_variances(session: Session, principal: Principal, *, since: datetime | None,
                       until: datetime | None) -> list[SupplierVariance]:
    orders = closed_orders(visible_site_ids(session, principal), since, until).scalar_subquery()
    figures = _order_figures(session, orders)
    draws = _draws(session, orders)
    sums: dict[tuple[int, str], list[Fraction]] = defaultdict(lambda: [Fraction(0)] * 3)
    lots: dict[tuple[int, str], set[int]] = defaultdict(set)
    for (order_id, component_id), by_supplier in draws.items():
        standard, actual, usage = figures.get((order_id, component_id), (0, 0, 0))
        total = sum((q for q, _ in by_supplier.values()), Fraction(0))
        for supplier, (quantity, lot_ids) in by_supplier.items():
            share = quantity / total
            key = (component_id, supplier)
            sums[key] = [s + Fraction(v) * share for s, v in zip(sums[key], (standard, actual, usage), strict=True)]
            lots[key] |= lot_ids
    items = {i.id: i for i in session.scalars(select(Item).where(col(Item.id).in_(sorted({k[0] for k in sums}))))}
    return sorted((_row(items[component_id], supplier, totals, len(lots[(component_id, supplier)]))
                   for (component_id, supplier), totals in sums.items()), key=lambda r: (r.item.code, r.supplier))


def _order_figures(session: Session, orders) -> dict[tuple[int, int], tuple[Decimal, Decimal, Decimal]]:
    figures: dict[tuple[int, int], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for order_id, component_id, standard, actual, usage in session.execute(
            select(col(ComponentVariance.work_order_id), col(ComponentVariance.component_id),
                   col(ComponentVariance.standard_quantity), col(ComponentVariance.actual_quantity),
                   col(ComponentVariance.usage_variance))
            .where(col(ComponentVariance.work_order_id).in_(orders))):
        row = figures[(order_id, component_id)]
        figures[(order_id, component_id)] = [row[0] + standard, row[1] + actual, row[2] + usage]
    return {key: (standard, actual, usage) for key, (standard, actual, usage) in figures.items()}


def _draws(session: Session, orders) -> dict[tuple[int, int], dict[str, tuple[Fraction, set[int]]]]:
    """Net quantity drawn per order, component and supplier (reversed issues left out), with the lots."""
    reversal = aliased(LedgerEntry)
    statement = (select(col(LedgerEntry.work_order_id), col(LedgerEntry.item_id), col(Lot.supplier), col(Lot.id),
                        col(LedgerEntry.quantity))
                 .join(Lot, col(Lot.id) == col(LedgerEntry.lot_id))
                 .outerjoin(reversal, col(reversal.reverses_entry_id) == col(LedgerEntry.id))
                 .where(col(LedgerEntry.work_order_id).in_(orders), col(LedgerEntry.kind).in_(ISSUE_KINDS),
                        col(reversal.id).is_(None)))
    draws: dict[tuple[int, int], dict[str, tuple[Fraction, set[int]]]] = defaultdict(dict)
    for order_id, item_id, supplier, lot_id, quantity in session.execute(statement):
        if order_id is None or lot_id is None:  # the WHERE keeps the orders' issues; a stored lot has its id
            raise ValueError("an issue row without its work order or lot")
        drawn, lot_ids = draws[(order_id, item_id)].get(supplier or NO_SUPPLIER, (Fraction(0), set()))
        draws[(order_id, item_id)][supplier or NO_SUPPLIER] = (drawn + Fraction(quantity), lot_ids | {lot_id})
    return draws


def _row(item: Item, supplier: str, totals: list[Fraction], lots: int) -> SupplierVariance:
    standard, actual, usage = (report_round(value, item.precision) for value in totals)
    return SupplierVariance(supplier=supplier, item=item, lots=lots, standard_quantity=standard, actual_quantity=actual,
                            usage_variance=usage, variance_percent=variance_percent(usage, standard))
