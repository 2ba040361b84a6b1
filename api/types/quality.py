"""Label versions and NCMRs on the wire."""
from __future__ import annotations

from datetime import datetime

import strawberry

import models
from api import ids
from api.errors import UserError
from api.types.enums import LotStatus
from api.types.inventory import Lot, load_lot
from api.types.masterdata import ESignature, load_signatures
from models.stored import stored_id


@strawberry.type
class LabelVersion:
    pk: strawberry.Private[int]
    version: int
    content: str
    status: str = strawberry.field(description="DRAFT, or APPROVED once QA has e-signed it")
    approved_at: datetime | None

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("LabelVersion", self.pk))

    @strawberry.field
    async def signatures(self, info: strawberry.Info) -> list[ESignature]:
        return await load_signatures(info, "label_version", self.pk)

    @classmethod
    def from_row(cls, row: models.LabelVersion) -> "LabelVersion":
        return cls(pk=stored_id(row), version=row.version, content=row.content, status=row.status,
                   approved_at=row.approved_at)


@strawberry.type
class Ncmr:
    pk: strawberry.Private[int]
    lot_pk: strawberry.Private[int]
    number: str
    status: str = strawberry.field(description="OPEN (the lot is ON_HOLD) or DISPOSITIONED")
    description: str
    disposition: LotStatus | None
    opened_at: datetime
    dispositioned_at: datetime | None

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Ncmr", self.pk))

    @strawberry.field
    async def lot(self, info: strawberry.Info) -> Lot:
        return await load_lot(info, self.lot_pk)

    @strawberry.field
    async def signatures(self, info: strawberry.Info) -> list[ESignature]:
        return await load_signatures(info, "ncmr", self.pk)

    @classmethod
    def from_row(cls, row: models.Ncmr) -> "Ncmr":
        return cls(pk=stored_id(row), lot_pk=row.lot_id, number=row.number, status=row.status,
                   description=row.description, disposition=LotStatus(row.disposition) if row.disposition else None,
                   opened_at=row.opened_at, dispositioned_at=row.dispositioned_at)


@strawberry.type
class LabelVersionPayload:
    user_errors: list[UserError]
    label_version: LabelVersion | None = None


@strawberry.type
class NcmrPayload:
    user_errors: list[UserError]
    ncmr: Ncmr | None = None

