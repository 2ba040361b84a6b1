"""Control signals and supplier variances on the wire (SPEC §9)."""
from __future__ import annotations

from decimal import Decimal

import strawberry

from api.types.masterdata import Item
from api.types.production import WorkOrder
from backflush.insight.signals import ControlSignal as ControlSignalRow
from backflush.insight.supplier_variance import SupplierVariance as SupplierVarianceRow


@strawberry.type
class ControlSignal:
    item: Item
    work_order: WorkOrder
    usage_per_unit: Decimal = strawberry.field(description="Actual usage per good unit, in the item's base uom")
    mean: Decimal
    sigma: Decimal = strawberry.field(description="Population standard deviation of the reference orders")
    lower_limit: Decimal
    upper_limit: Decimal
    sample_size: int = strawberry.field(description="How many earlier closed orders the limits were computed from")

    @classmethod
    def from_row(cls, row: ControlSignalRow) -> "ControlSignal":
        limits = row.limits
        return cls(item=Item.from_row(row.item), work_order=WorkOrder.from_row(row.work_order),
                   usage_per_unit=row.usage_per_unit, mean=limits.mean, sigma=limits.sigma, lower_limit=limits.lower,
                   upper_limit=limits.upper, sample_size=limits.sample_size)


@strawberry.type
class SupplierVariance:
    supplier: str
    item: Item
    lots: int = strawberry.field(description="Distinct lots of this supplier the orders consumed")
    standard_quantity: Decimal
    actual_quantity: Decimal
    usage_variance: Decimal
    variance_percent: Decimal = strawberry.field(
        description="usageVariance ÷ standardQuantity × 100; 0 where there is no standard (an alternate's draws)")

    @classmethod
    def from_row(cls, row: SupplierVarianceRow) -> "SupplierVariance":
        return cls(supplier=row.supplier, item=Item.from_row(row.item), lots=row.lots,
                   standard_quantity=row.standard_quantity, actual_quantity=row.actual_quantity,
                   usage_variance=row.usage_variance,
                   variance_percent=Decimal("0.00") if row.variance_percent is None else row.variance_percent)
