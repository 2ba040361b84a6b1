"""Mutations for sites, locations, items, UOM conversions and BOMs."""
from __future__ import annotations

import strawberry

from api.errors import user_errors
from api.ids import pk_of
from api.inputs import (
    ApproveInput,
    BomLineInput,
    CreateBomInput,
    CreateItemInput,
    CreateLocationInput,
    CreateSiteInput,
    CreateUomConversionInput,
    UpdateBomDraftInput,
)
from api.payloads import BomPayload, ItemPayload, LocationPayload, SitePayload, UomConversionPayload
from api.permissions import guarded
from api.signing import signature_request
from api.types.masterdata import Bom, Item, Location, Site, UomConversion
from backflush.services import boms, conversions, masterdata


def _line_specs(lines: list[BomLineInput]) -> list[boms.LineSpec]:
    return [boms.LineSpec(
        line_no=l.line_no, component_code=l.component_code, quantity=l.quantity, uom=l.uom,
        scrap_percent=l.scrap_percent, setup_scrap=l.setup_scrap, yield_percent=l.yield_percent,
        scrap_source=l.scrap_source, operation_seq=l.operation_seq,
        posting_method=l.posting_method.value if l.posting_method else None,
        alternates=[boms.AlternateSpec(a.component_code, a.ratio, a.priority) for a in l.alternates or []],
    ) for l in lines]


@strawberry.type
class MasterDataMutations:
    @strawberry.mutation(**guarded("admin"))
    async def create_site(self, info: strawberry.Info, input: CreateSiteInput) -> SitePayload:
        row, errors = await info.context.execute(lambda s, p: masterdata.create_site(s, p, code=input.code, name=input.name))
        return SitePayload(site=row and Site.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("masterdata:write"))
    async def create_location(self, info: strawberry.Info, input: CreateLocationInput) -> LocationPayload:
        row, errors = await info.context.execute(lambda s, p: masterdata.create_location(
            s, p, site_code=input.site_code, code=input.code, kind=input.kind.value))
        return LocationPayload(location=row and Location.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("masterdata:write"))
    async def create_item(self, info: strawberry.Info, input: CreateItemInput) -> ItemPayload:
        spec = masterdata.ItemSpec(
            code=input.code, name=input.name, base_uom=input.base_uom, precision=input.precision,
            rounding=input.rounding.value if input.rounding else "HALF_UP", lot_controlled=input.lot_controlled is not False,
            serialized=bool(input.serialized), variable_potency=bool(input.variable_potency), phantom=bool(input.phantom),
            shelf_life_days=input.shelf_life_days, standard_cost=input.standard_cost)
        row, errors = await info.context.execute(lambda s, p: masterdata.create_item(s, p, spec))
        return ItemPayload(item=row and Item.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("masterdata:write"))
    async def create_uom_conversion(self, info: strawberry.Info, input: CreateUomConversionInput) -> UomConversionPayload:
        row, errors = await info.context.execute(lambda s, p: conversions.create_conversion(
            s, p, item_code=input.item_code, from_uom=input.from_uom, to_uom=input.to_uom, factor=input.factor,
            density_source=input.density_source, temperature_note=input.temperature_note))
        return UomConversionPayload(conversion=row and UomConversion.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("signatures:sign"))
    async def approve_uom_conversion(self, info: strawberry.Info, input: ApproveInput) -> UomConversionPayload:
        row, errors = await info.context.execute(lambda s, p: conversions.approve_conversion(
            s, p, conversion_id=pk_of(input.id, "UomConversion"), signature=signature_request(input.signature),
            effective_from=input.effective_from))
        return UomConversionPayload(conversion=row and UomConversion.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("masterdata:write"))
    async def create_bom(self, info: strawberry.Info, input: CreateBomInput) -> BomPayload:
        row, errors = await info.context.execute(lambda s, p: boms.create_bom(
            s, p, item_code=input.item_code, base_quantity=input.base_quantity, lines=_line_specs(input.lines),
            rework=bool(input.rework)))
        return BomPayload(bom=row and Bom.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("masterdata:write"), description="Replace a DRAFT BOM's lines; approved BOMs are immutable")
    async def update_bom_draft(self, info: strawberry.Info, input: UpdateBomDraftInput) -> BomPayload:
        row, errors = await info.context.execute(lambda s, p: boms.update_bom_draft(
            s, p, bom_id=pk_of(input.id, "Bom"), base_quantity=input.base_quantity, lines=_line_specs(input.lines)))
        return BomPayload(bom=row and Bom.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("signatures:sign"))
    async def approve_bom(self, info: strawberry.Info, input: ApproveInput) -> BomPayload:
        row, errors = await info.context.execute(lambda s, p: boms.approve_bom(
            s, p, bom_id=pk_of(input.id, "Bom"), signature=signature_request(input.signature),
            effective_from=input.effective_from))
        return BomPayload(bom=row and Bom.from_row(row), user_errors=user_errors(errors))
