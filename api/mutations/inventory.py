"""Mutations for goods receipt, lot status, work orders and staging."""
from __future__ import annotations

import strawberry

from api.errors import user_errors
from api.ids import pk_of
from api.inputs import CreateWorkOrderInput, ReceiveGoodsInput, ReleaseWorkOrderInput, SetLotStatusInput, StageLotInput
from api.payloads import LotPayload, StagePayload, WorkOrderPayload
from api.permissions import guarded
from api.signing import signature_request
from api.types.inventory import Lot, StagedLot
from api.types.production import WorkOrder
from backflush.services import receiving, staging, work_orders


@strawberry.type
class InventoryMutations:
    @strawberry.mutation(**guarded("inventory:write"))
    async def receive_goods(self, info: strawberry.Info, input: ReceiveGoodsInput) -> LotPayload:
        receipt = receiving.Receipt(
            item_code=input.item_code, lot_number=input.lot_number, quantity=input.quantity, uom=input.uom,
            location_id=pk_of(input.location_id, "Location"), expires_on=input.expires_on, supplier=input.supplier,
            serials=input.serials or [], status=input.status.value if input.status else "RELEASED",
            conversions=[receiving.LotConversionSpec(c.from_uom, c.to_uom, c.factor) for c in input.conversions or []],
            device_id=input.device_id)
        row, errors = await info.context.execute(lambda s, p: receiving.receive_goods(s, p, receipt))
        return LotPayload(lot=row and Lot.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("inventory:write"))
    async def set_lot_status(self, info: strawberry.Info, input: SetLotStatusInput) -> LotPayload:
        row, errors = await info.context.execute(lambda s, p: receiving.set_lot_status(
            s, p, lot_id=pk_of(input.lot_id, "Lot"), status=input.status.value, reason=input.reason,
            signature=signature_request(input.signature)))
        return LotPayload(lot=row and Lot.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("production:write"))
    async def create_work_order(self, info: strawberry.Info, input: CreateWorkOrderInput) -> WorkOrderPayload:
        spec = work_orders.WorkOrderSpec(
            number=input.number, item_code=input.item_code, quantity=input.quantity, site_code=input.site_code,
            wip_location_id=pk_of(input.wip_location_id, "Location"),
            output_location_id=pk_of(input.output_location_id, "Location"),
            overproduction_tolerance_percent=input.overproduction_tolerance_percent, rework=bool(input.rework),
            operations=[work_orders.OperationSpec(op.seq, op.name, op.work_center, pk_of(op.input_location_id, "Location")
                                                  if op.input_location_id else None) for op in input.operations])
        row, errors = await info.context.execute(lambda s, p: work_orders.create_work_order(s, p, spec))
        return WorkOrderPayload(work_order=row and WorkOrder.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("production:write"))
    async def release_work_order(self, info: strawberry.Info, input: ReleaseWorkOrderInput) -> WorkOrderPayload:
        row, errors = await info.context.execute(lambda s, p: work_orders.release_work_order(
            s, p, work_order_id=pk_of(input.work_order_id, "WorkOrder"), output_lot_number=input.output_lot_number))
        return WorkOrderPayload(work_order=row and WorkOrder.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("inventory:write"))
    async def stage_lot(self, info: strawberry.Info, input: StageLotInput) -> StagePayload:
        request = staging.StageRequest(
            work_order_id=pk_of(input.work_order_id, "WorkOrder"), lot_id=pk_of(input.lot_id, "Lot"),
            from_location_id=pk_of(input.from_location_id, "Location"), quantity=input.quantity,
            scanned_lot_number=input.scanned_lot_number, device_id=input.device_id,
            to_location_id=pk_of(input.to_location_id, "Location") if input.to_location_id else None)
        row, errors = await info.context.execute(lambda s, p: staging.stage_lot(s, p, request))
        return StagePayload(staged_lot=row and StagedLot.from_row(row), user_errors=user_errors(errors))
