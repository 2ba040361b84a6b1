"""Rule sets and rule decisions on the wire."""
from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

import models
from api.types.enums import ApprovalStatus, RuleSetKind
from api.types.masterdata import ESignature, load_signatures
from api.types.node import Node
from models.stored import stored_id


@strawberry.type
class RuleSet(Node):
    site_pk: strawberry.Private[int | None]  # None: a global rule set
    name: str
    kind: RuleSetKind
    version: int
    status: ApprovalStatus
    document: JSON
    effective_from: datetime | None

    @strawberry.field
    async def signatures(self, info: strawberry.Info) -> list[ESignature]:
        return await load_signatures(info, "rule_set", self.pk)

    @classmethod
    def from_row(cls, row: models.RuleSet) -> "RuleSet":
        return cls(pk=stored_id(row), site_pk=row.site_id, name=row.name, kind=RuleSetKind(row.kind),
                   version=row.version, status=ApprovalStatus(row.status), document=JSON(row.document),
                   effective_from=row.effective_from)


@strawberry.type
class FiredRule:
    rule_id: str
    action: str
    params: JSON | None


@strawberry.type
class RuleDecision:
    rule_set_pk: strawberry.Private[int]
    version: int
    fired: list[FiredRule]
    input_hash: str
    engine: str

    @strawberry.field
    async def rule_set(self, info: strawberry.Info) -> RuleSet:
        return RuleSet.from_row(await info.context.loaders.by_id(models.RuleSet).load(self.rule_set_pk))

    @classmethod
    def from_row(cls, row: models.RuleDecision) -> "RuleDecision":
        fired = [FiredRule(rule_id=f["rule_id"], action=f["action"], params=f.get("params")) for f in row.fired]
        return cls(rule_set_pk=row.rule_set_id, version=row.version, fired=fired, input_hash=row.input_hash,
                   engine=row.engine)
