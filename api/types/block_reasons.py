"""Why a trigger blocked, on the wire: the reason, the figures, and the component it names."""
from __future__ import annotations

from decimal import Decimal

import strawberry

from api.types.masterdata import Item


@strawberry.type
class BlockReason:
    code: str
    message: str
    component_code: strawberry.Private[str | None]
    required: Decimal | None
    eligible: Decimal | None
    line_no: int | None
    uom: str | None

    @strawberry.field
    async def component(self, info: strawberry.Info) -> Item | None:
        return await load_item_by_code(info, self.component_code)

    @classmethod
    def from_json(cls, reason: dict) -> "BlockReason":
        def dec(value):
            return None if value is None else Decimal(value)
        return cls(code=reason["code"], message=reason["message"], component_code=reason.get("component_code"),
                   required=dec(reason.get("required")), eligible=dec(reason.get("eligible")),
                   line_no=reason.get("line_no"), uom=reason.get("uom"))


async def load_item_by_code(info: strawberry.Info, code: str | None) -> Item | None:
    if code is None:
        return None
    row = await info.context.loaders.custom("item_by_code", _items_by_code).load(code)
    return row and Item.from_row(row)


def _items_by_code(session, codes: list[str]) -> list:
    from backflush.reads.records import items_by_codes
    found = items_by_codes(session, codes)
    return [found.get(code) for code in codes]
