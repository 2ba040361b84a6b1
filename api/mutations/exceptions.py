"""Mutations for the exceptions of material: reversals, returns to stock, closing a work order."""
from __future__ import annotations

from decimal import Decimal

import strawberry

from api.errors import UserError, user_errors
from api.ids import pk_of
from api.inputs import SignatureInput
from api.payloads import StagePayload, WorkOrderPayload
from api.permissions import guarded
from api.signing import signature_request
from api.types.enums import ResidualDisposition
from api.types.exceptions import Reversal
from api.types.inventory import StagedLot
from api.types.production import WorkOrder
from backflush.insight.control_limits import window_of
from backflush.policies.rules_exception_policy import RulesClosePolicy, RulesReversalPolicy
from backflush.services import closing, returns, reversals


@strawberry.input
class RequestReversalInput:
    trigger_id: strawberry.ID
    reason_code: str
    comment: str | None = None


@strawberry.input
class SignReversalInput:
    reversal_id: strawberry.ID
    signature: SignatureInput


@strawberry.input
class RejectReversalInput:
    reversal_id: strawberry.ID
    reason: str


@strawberry.input
class ReturnToStockInput:
    work_order_id: strawberry.ID
    lot_id: strawberry.ID
    to_location_id: strawberry.ID
    quantity: Decimal
    reason_code: str
    scanned_lot_number: str
    exposed: bool | None = strawberry.field(default=None, description="Sends the residual to QUARANTINE instead")
    device_id: str | None = None


@strawberry.input
class ResidualInput:
    lot_id: strawberry.ID
    disposition: ResidualDisposition
    to_location_id: strawberry.ID | None = None
    reason_code: str
    scanned_lot_number: str | None = None


@strawberry.input
class CloseWorkOrderInput:
    work_order_id: strawberry.ID
    residuals: list[ResidualInput] | None = None


@strawberry.type
class ReversalPayload:
    reversal: Reversal | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _residual(residual: ResidualInput) -> closing.ResidualSpec:
    return closing.ResidualSpec(
        lot_id=pk_of(residual.lot_id, "Lot"), disposition=residual.disposition.value, reason_code=residual.reason_code,
        to_location_id=pk_of(residual.to_location_id, "Location") if residual.to_location_id else None,
        scanned_lot_number=residual.scanned_lot_number)


def _reversal_payload(row, errors) -> ReversalPayload:
    return ReversalPayload(reversal=row and Reversal.from_row(row), user_errors=user_errors(errors))


@strawberry.type
class ExceptionMutations:
    @strawberry.mutation(**guarded("triggers:write"))
    async def request_reversal(self, info: strawberry.Info, input: RequestReversalInput) -> ReversalPayload:
        policy = RulesReversalPolicy()
        row, errors = await info.context.execute(lambda s, p: reversals.request_reversal(
            s, p, trigger_id=pk_of(input.trigger_id, "Trigger"), reason_code=input.reason_code,
            comment=input.comment, policy=policy))
        return _reversal_payload(row, errors)

    @strawberry.mutation(**guarded("signatures:sign"))
    async def sign_reversal(self, info: strawberry.Info, input: SignReversalInput) -> ReversalPayload:
        row, errors = await info.context.execute(lambda s, p: reversals.sign_reversal(
            s, p, reversal_id=pk_of(input.reversal_id, "Reversal"), signature=signature_request(input.signature)))
        return _reversal_payload(row, errors)

    @strawberry.mutation(**guarded("triggers:write", "signatures:sign"),
                         description="Withdraw (requester) or refuse (a permitted signer) a pending reversal")
    async def reject_reversal(self, info: strawberry.Info, input: RejectReversalInput) -> ReversalPayload:
        row, errors = await info.context.execute(lambda s, p: reversals.reject_reversal(
            s, p, reversal_id=pk_of(input.reversal_id, "Reversal"), reason=input.reason))
        return _reversal_payload(row, errors)

    @strawberry.mutation(**guarded("inventory:write"))
    async def return_to_stock(self, info: strawberry.Info, input: ReturnToStockInput) -> StagePayload:
        row, errors = await info.context.execute(lambda s, p: returns.return_to_stock(
            s, p, work_order_id=pk_of(input.work_order_id, "WorkOrder"), lot_id=pk_of(input.lot_id, "Lot"),
            to_location_id=pk_of(input.to_location_id, "Location"), quantity=input.quantity,
            reason_code=input.reason_code, scanned_lot_number=input.scanned_lot_number, exposed=bool(input.exposed),
            device_id=input.device_id))
        return StagePayload(staged_lot=row and StagedLot.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("production:write"))
    async def close_work_order(self, info: strawberry.Info, input: CloseWorkOrderInput) -> WorkOrderPayload:
        policy = RulesClosePolicy()
        residuals = [_residual(r) for r in input.residuals or []]
        row, errors = await info.context.execute(lambda s, p: closing.close_work_order(
            s, p, work_order_id=pk_of(input.work_order_id, "WorkOrder"), residuals=residuals, policy=policy,
            control_window=window_of(info.context.settings)))
        return WorkOrderPayload(work_order=row and WorkOrder.from_row(row), user_errors=user_errors(errors))
