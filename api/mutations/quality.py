"""Label versions ("no label approval, no packout") and NCMRs: thin adapters over backflush.quality."""
from __future__ import annotations

import strawberry

from api.errors import user_errors
from api.ids import pk_of
from api.inputs import SignatureInput
from api.permissions import guarded
from api.signing import signature_request
from api.types.enums import LotStatus
from api.types.quality import LabelVersion, LabelVersionPayload, Ncmr, NcmrPayload
from backflush.services import labels, ncmr


@strawberry.input
class CreateLabelVersionInput:
    work_order_id: strawberry.ID
    content: str = strawberry.field(description="The label text or artwork reference QA reviews")


@strawberry.input
class ApproveLabelVersionInput:
    label_version_id: strawberry.ID
    signature: SignatureInput = strawberry.field(description="QA's e-signature, meaning \"Approved\"")


@strawberry.input
class OpenNcmrInput:
    lot_id: strawberry.ID
    description: str


@strawberry.input
class DispositionNcmrInput:
    ncmr_id: strawberry.ID
    disposition: LotStatus = strawberry.field(description="RELEASED, REJECTED, or QUARANTINE for re-testing")
    reason: str
    signature: SignatureInput | None = strawberry.field(
        default=None, description="QA's e-signature: \"Released\", \"Rejected\" or \"Dispositioned\" (re-test)")


@strawberry.type
class QualityMutations:
    @strawberry.mutation(**guarded("production:write", "masterdata:write"))
    async def create_label_version(self, info: strawberry.Info, input: CreateLabelVersionInput) -> LabelVersionPayload:
        row, errors = await info.context.execute(lambda s, p: labels.create_label_version(
            s, p, work_order_id=pk_of(input.work_order_id, "WorkOrder"), content=input.content))
        return LabelVersionPayload(label_version=row and LabelVersion.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("signatures:sign"), description="QA only (checked by the domain)")
    async def approve_label_version(self, info: strawberry.Info,
                                    input: ApproveLabelVersionInput) -> LabelVersionPayload:
        row, errors = await info.context.execute(lambda s, p: labels.approve_label_version(
            s, p, label_version_id=pk_of(input.label_version_id, "LabelVersion"),
            signature=signature_request(input.signature)))
        return LabelVersionPayload(label_version=row and LabelVersion.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("inventory:write"))
    async def open_ncmr(self, info: strawberry.Info, input: OpenNcmrInput) -> NcmrPayload:
        row, errors = await info.context.execute(lambda s, p: ncmr.open_ncmr(
            s, p, lot_id=pk_of(input.lot_id, "Lot"), description=input.description))
        return NcmrPayload(ncmr=row and Ncmr.from_row(row), user_errors=user_errors(errors))

    @strawberry.mutation(**guarded("inventory:write"))
    async def disposition_ncmr(self, info: strawberry.Info, input: DispositionNcmrInput) -> NcmrPayload:
        row, errors = await info.context.execute(lambda s, p: ncmr.disposition_ncmr(
            s, p, ncmr_id=pk_of(input.ncmr_id, "Ncmr"), disposition=input.disposition.value, reason=input.reason,
            signature=signature_request(input.signature)))
        return NcmrPayload(ncmr=row and Ncmr.from_row(row), user_errors=user_errors(errors))
