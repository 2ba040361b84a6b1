"""Mutation payloads: the changed object, or the user errors that explain why nothing changed."""
from __future__ import annotations

import strawberry

from api.errors import UserError
from api.types.inventory import Lot, StagedLot
from api.types.masterdata import Bom, Item, Location, Site, UomConversion
from api.types.work_orders import WorkOrder


@strawberry.type
class ItemPayload:
    item: Item | None
    user_errors: list[UserError]


@strawberry.type
class UomConversionPayload:
    conversion: UomConversion | None
    user_errors: list[UserError]


@strawberry.type
class BomPayload:
    bom: Bom | None
    user_errors: list[UserError]


@strawberry.type
class SitePayload:
    site: Site | None
    user_errors: list[UserError]


@strawberry.type
class LocationPayload:
    location: Location | None
    user_errors: list[UserError]


@strawberry.type
class LotPayload:
    lot: Lot | None
    user_errors: list[UserError]


@strawberry.type
class WorkOrderPayload:
    work_order: WorkOrder | None
    user_errors: list[UserError]


@strawberry.type
class StagePayload:
    staged_lot: StagedLot | None
    user_errors: list[UserError]
