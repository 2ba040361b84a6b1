"""Mutation payloads: the changed object, or the user errors that explain why nothing changed."""
from __future__ import annotations

import strawberry

from api.errors import UserError
from api.types.inventory import Lot, StagedLot
from api.types.masterdata import Bom, Item, Location, Site, UomConversion
from api.types.production import WorkOrder


@strawberry.type
class ItemPayload:
    item: Item | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UomConversionPayload:
    conversion: UomConversion | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BomPayload:
    bom: Bom | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SitePayload:
    site: Site | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LocationPayload:
    location: Location | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LotPayload:
    lot: Lot | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WorkOrderPayload:
    work_order: WorkOrder | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StagePayload:
    staged_lot: StagedLot | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
