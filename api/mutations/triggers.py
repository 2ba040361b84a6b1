"""Mutations and the preview for production triggers and scan issues."""
from __future__ import annotations

from decimal import Decimal

import strawberry

from api.errors import UserError, user_errors
from api.ids import pk_of
from api.inputs_triggers import DiscardTriggerInput, PostTriggerInput, RetryTriggerInput, ScanIssueInput
from api.permissions import guarded
from api.signing import signature_request
from api.types.block_reasons import BlockReason, load_item_by_code
from api.types.enums import TriggerOutcome
from api.types.inventory import LotAtLocation
from api.types.masterdata import Item
from api.types.production import FlushPosting, Trigger
from backflush.services import posting
from backflush.services.scan_issue import ScanIssueRequest, scan_issue
from backflush.services.trigger_eval import TriggerInput
from kernel import instruments


@strawberry.type
class TriggerPayload:
    trigger: Trigger | None = None
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PostingPayload:
    posting: FlushPosting | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlannedDraw(LotAtLocation):
    line_no: int
    component_code: strawberry.Private[str]
    substitutes_code: strawberry.Private[str | None]
    quantity: Decimal
    uom: str

    @strawberry.field
    async def component(self, info: strawberry.Info) -> Item:
        item = await load_item_by_code(info, self.component_code)
        if item is None:  # the planner drew it from a BOM line: the item exists
            raise LookupError(f"no item {self.component_code}")
        return item

    @strawberry.field
    async def substitutes_for(self, info: strawberry.Info) -> Item | None:
        return await load_item_by_code(info, self.substitutes_code)


@strawberry.type
class TriggerPreview:
    outcome: TriggerOutcome = TriggerOutcome.BLOCKED  # a refused request plans nothing
    draws: list[PlannedDraw] = strawberry.field(default_factory=list)
    block_reasons: list[BlockReason] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list,
                                                    description="Why the request itself is invalid (nothing planned)")


def trigger_input(input: PostTriggerInput) -> TriggerInput:
    return TriggerInput(
        idempotency_key=input.idempotency_key, work_order_id=pk_of(input.work_order_id, "WorkOrder"),
        kind=input.kind.value, good_quantity=input.good_quantity, scrap_quantity=input.scrap_quantity,
        operation_seq=input.operation_seq, device_id=input.device_id, device_timestamp=input.device_timestamp,
        serials=tuple((s.line_no, s.serial) for s in input.serials or ()), handling_unit=input.handling_unit)


def _payload(result, errors) -> TriggerPayload:
    return TriggerPayload(trigger=result and Trigger.from_row(result.trigger), replayed=bool(result and result.replayed),
                          user_errors=user_errors(errors))


@strawberry.type
class TriggerMutations:
    @strawberry.mutation(**guarded("triggers:write"))
    async def post_trigger(self, info: strawberry.Info, input: PostTriggerInput) -> TriggerPayload:
        ctx, request = info.context, trigger_input(input)
        result, errors = await ctx.run(lambda: posting.submit_trigger(ctx.sessions, ctx.principal, request,
                                                                      ctx.flush_policy()))
        if result is not None:  # committed: now it counts
            instruments.count_trigger(result.trigger.outcome, replayed=result.replayed)
        return _payload(result, errors)

    @strawberry.mutation(**guarded("triggers:write"))
    async def retry_trigger(self, info: strawberry.Info, input: RetryTriggerInput) -> TriggerPayload:
        policy = info.context.flush_policy()
        result, errors = await info.context.execute(lambda s, p: posting.retry_trigger(
            s, p, trigger_id=pk_of(input.trigger_id, "Trigger"), policy=policy))
        if result is not None:
            instruments.count_trigger(result.trigger.outcome, replayed=False, retry=True)
        return _payload(result, errors)

    @strawberry.mutation(**guarded("signatures:sign"))
    async def discard_trigger(self, info: strawberry.Info, input: DiscardTriggerInput) -> TriggerPayload:
        row, errors = await info.context.execute(lambda s, p: posting.discard_trigger(
            s, p, trigger_id=pk_of(input.trigger_id, "Trigger"), reason_code=input.reason_code,
            signature=signature_request(input.signature)))
        return TriggerPayload(trigger=row and Trigger.from_row(row), replayed=False, user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("inventory:write"))
    async def scan_issue(self, info: strawberry.Info, input: ScanIssueInput) -> PostingPayload:
        request = ScanIssueRequest(work_order_id=pk_of(input.work_order_id, "WorkOrder"), line_no=input.line_no,
                                   lot_id=pk_of(input.lot_id, "Lot"), quantity=input.quantity, uom=input.uom,
                                   scanned_lot_number=input.scanned_lot_number, device_id=input.device_id)
        row, errors = await info.context.execute(lambda s, p: scan_issue(s, p, request))
        return PostingPayload(posting=row and FlushPosting.from_row(row), user_errors=user_errors(errors))


@strawberry.type
class TriggerQueries:
    @strawberry.field(**guarded("triggers:write"), description="What postTrigger would do now, writing nothing")
    async def preview_trigger(self, info: strawberry.Info, input: PostTriggerInput) -> TriggerPreview:
        ctx, request = info.context, trigger_input(input)
        evaluation, errors = await ctx.execute(lambda s, p: posting.preview_trigger(s, p, request, ctx.flush_policy()))
        if errors:
            return TriggerPreview(outcome=TriggerOutcome.BLOCKED, draws=[], block_reasons=[], user_errors=user_errors(errors))
        plan = evaluation.plan
        draws = [PlannedDraw(line_no=d.line_no, component_code=d.component_code, substitutes_code=d.substitutes_for,
                             lot_pk=d.lot_id, location_pk=d.location_id, quantity=d.quantity, uom=d.uom)
                 for d in plan.draws]
        reasons = [BlockReason(code=r.code, message=r.message, component_code=r.component_code, required=r.required,
                               eligible=r.eligible, line_no=r.line_no, uom=r.uom) for r in plan.block_reasons]
        outcome = TriggerOutcome.BLOCKED if plan.blocked else TriggerOutcome.POSTED
        return TriggerPreview(outcome=outcome, draws=draws, block_reasons=reasons, user_errors=[])
