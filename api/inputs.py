"""Input types of the client contract, for master data, inventory and work orders."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from api.types.enums import LocationKind, LotStatus, PostingMethod, Rounding


@strawberry.input
class CreateItemInput:
    code: str
    name: str
    base_uom: str
    precision: int
    rounding: Rounding | None = None
    lot_controlled: bool | None = None
    serialized: bool | None = None
    variable_potency: bool | None = None
    phantom: bool | None = None
    shelf_life_days: int | None = None
    standard_cost: Decimal | None = None


@strawberry.input
class CreateUomConversionInput:
    item_code: str | None = None
    from_uom: str
    to_uom: str
    factor: Decimal
    density_source: str | None = None
    temperature_note: str | None = None


@strawberry.input
class BomAlternateInput:
    component_code: str
    ratio: Decimal
    priority: int


@strawberry.input
class BomLineInput:
    line_no: int
    component_code: str
    quantity: Decimal
    uom: str
    scrap_percent: Decimal | None = None
    setup_scrap: Decimal | None = None
    yield_percent: Decimal | None = None
    scrap_source: str | None = None
    operation_seq: int | None = None
    posting_method: PostingMethod | None = None
    alternates: list[BomAlternateInput] | None = None


@strawberry.input
class CreateBomInput:
    item_code: str
    base_quantity: Decimal | None = None
    lines: list[BomLineInput]
    rework: bool | None = strawberry.field(default=None, description="A rework recipe, which may consume the item itself")


@strawberry.input
class UpdateBomDraftInput:
    id: strawberry.ID
    base_quantity: Decimal | None = None
    lines: list[BomLineInput]


@strawberry.input
class SignatureInput:
    meaning: str
    password: str | None = None


@strawberry.input
class ApproveInput:
    id: strawberry.ID
    signature: SignatureInput
    effective_from: datetime | None = None


@strawberry.input
class CreateSiteInput:
    code: str
    name: str


@strawberry.input
class CreateLocationInput:
    site_code: str
    code: str
    kind: LocationKind


@strawberry.input
class LotConversionInput:
    from_uom: str
    to_uom: str
    factor: Decimal


@strawberry.input
class ReceiveGoodsInput:
    item_code: str
    lot_number: str
    quantity: Decimal
    uom: str | None = None
    location_id: strawberry.ID
    expires_on: date | None = None
    supplier: str | None = None
    serials: list[str] | None = None
    conversions: list[LotConversionInput] | None = strawberry.field(
        default=None, description="Lot-specific conversions, e.g. a measured density L -> kg")
    status: LotStatus | None = strawberry.field(default=None, description="Initial lot status (default RELEASED)")
    device_id: str | None = None


@strawberry.input
class SetLotStatusInput:
    lot_id: strawberry.ID
    status: LotStatus
    reason: str
    signature: SignatureInput | None = None


@strawberry.input
class OperationInput:
    seq: int
    name: str
    work_center: str | None = None
    input_location_id: strawberry.ID | None = None


@strawberry.input
class CreateWorkOrderInput:
    number: str
    item_code: str
    quantity: Decimal
    site_code: str
    wip_location_id: strawberry.ID
    output_location_id: strawberry.ID
    overproduction_tolerance_percent: Decimal | None = None
    operations: list[OperationInput]
    rework: bool | None = strawberry.field(default=None, description="Run the item's rework recipe on a nonconforming lot")


@strawberry.input
class ReleaseWorkOrderInput:
    work_order_id: strawberry.ID
    output_lot_number: str | None = None


@strawberry.input
class StageLotInput:
    work_order_id: strawberry.ID
    lot_id: strawberry.ID
    from_location_id: strawberry.ID
    quantity: Decimal
    scanned_lot_number: str
    to_location_id: strawberry.ID | None = strawberry.field(
        default=None, description="An operation's input location; default the work order's WIP location")
    device_id: str | None = None
