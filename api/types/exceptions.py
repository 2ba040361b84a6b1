"""Reversals and the signatures they require, on the wire."""
from __future__ import annotations

from datetime import datetime

import strawberry

import models
from api.types.enums import ReversalStatus
from api.types.masterdata import ESignature, load_signatures
from api.types.node import Node
from api.types.production import Trigger
from models.stored import stored_id


@strawberry.type(description="At least `count` distinct signers, each holding one of `roles`")
class SignatureRequirement:
    count: int
    roles: list[str]
    meaning: str


@strawberry.type
class Reversal(Node):
    site_pk: strawberry.Private[int]
    trigger_pk: strawberry.Private[int]
    required_json: strawberry.Private[list]
    reason_code: str
    comment: str | None
    status: ReversalStatus
    requested_at: datetime
    executed_at: datetime | None
    rejected_reason: str | None

    @strawberry.field
    async def trigger(self, info: strawberry.Info) -> Trigger:
        return Trigger.from_row(await info.context.loaders.by_id(models.Trigger).load(self.trigger_pk))

    @strawberry.field(description="Every requirement must be met before the reversal executes")
    def required(self) -> list[SignatureRequirement]:
        return [SignatureRequirement(count=r["count"], roles=list(r["roles"]), meaning=r["meaning"])
                for r in self.required_json]

    @strawberry.field
    async def signatures(self, info: strawberry.Info) -> list[ESignature]:
        return await load_signatures(info, "reversal", self.pk)

    @classmethod
    def from_row(cls, row: models.Reversal) -> "Reversal":
        return cls(pk=stored_id(row), site_pk=row.site_id, trigger_pk=row.trigger_id, required_json=row.required or [],
                   reason_code=row.reason_code, comment=row.comment, status=ReversalStatus(row.status),
                   requested_at=row.requested_at, executed_at=row.executed_at, rejected_reason=row.rejected_reason)
