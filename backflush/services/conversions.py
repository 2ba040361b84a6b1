"""UOM conversions under change control, and the look-ups that resolve lot > item > global."""
from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core import usage
from backflush.governance import change_control
from backflush.governance.signatures import SignatureRequest
from backflush.services.arguments import decimal_arg, text_arg
from backflush.services.masterdata import item_by_code
from kernel import audit
from kernel.errors import NotFound
from models import UomConversion
from models.types import utcnow


def create_conversion(session: Session, principal: Principal, *, item_code: str | None, from_uom: str,
                      to_uom: str, factor, density_source: str | None = None,
                      temperature_note: str | None = None) -> UomConversion:
    item = item_by_code(session, item_code) if item_code else None
    from_uom, to_uom = text_arg(from_uom, "fromUom", max_length=20), text_arg(to_uom, "toUom", max_length=20)
    family = _family(session, item.id if item else None, from_uom, to_uom)
    conversion = UomConversion(
        item_id=item.id if item else None, from_uom=from_uom, to_uom=to_uom,
        factor=decimal_arg(factor, "factor", positive=True), density_source=density_source,
        temperature_note=temperature_note, version=1 + max((c.version for c in family), default=0), status="DRAFT",
    )
    session.add(conversion)
    session.flush()
    audit.record(session, actor=principal.subject, action="uom_conversion.created", entity_type="uom_conversion",
                 entity_id=conversion.id, after=_content(conversion, item_code))
    return conversion


def approve_conversion(session: Session, principal: Principal, *, conversion_id: int,
                       signature: SignatureRequest, effective_from: datetime | None) -> UomConversion:
    conversion = session.get(UomConversion, conversion_id) if conversion_id else None
    if conversion is None or conversion.lot_id is not None:
        raise NotFound("UOM conversion", ["input", "id"])
    family = [c for c in _family(session, conversion.item_id, conversion.from_uom, conversion.to_uom)
              if c.id != conversion.id]
    change_control.approve(session, principal, record=conversion, record_type="uom_conversion",
                           content=_content(conversion, conversion.item_id), signature=signature,
                           effective_from=effective_from, family=family)
    return conversion


def _family(session: Session, item_id: int | None, from_uom: str, to_uom: str) -> list[UomConversion]:
    query = select(UomConversion).where(
        col(UomConversion.lot_id).is_(None), col(UomConversion.from_uom) == from_uom, col(UomConversion.to_uom) == to_uom,
        col(UomConversion.item_id).is_(None) if item_id is None else col(UomConversion.item_id) == item_id,
    ).with_for_update()
    return list(session.scalars(query))


def _content(conversion: UomConversion, item_ref) -> dict:
    return {"item": item_ref, "from_uom": conversion.from_uom, "to_uom": conversion.to_uom,
            "factor": conversion.factor, "version": conversion.version,
            "density_source": conversion.density_source, "temperature_note": conversion.temperature_note}


def conversions_in_force(session: Session, *, item_ids: set[int], lot_ids: AbstractSet[int] = frozenset(),
                         at: datetime | None = None) -> list[UomConversion]:
    """Global, item and lot conversions usable now: lot ones are measured facts, the rest governed."""
    rows = list(session.scalars(governed_in_force(item_ids=item_ids, at=at or utcnow())))
    lot_rows = (list(session.scalars(select(UomConversion).where(col(UomConversion.lot_id).in_(lot_ids))))
                if lot_ids else [])
    return newest_in_force(rows) + lot_rows


def governed_in_force(*, item_ids: AbstractSet[int], at: datetime) -> Select[UomConversion]:
    """The governed (not lot) conversions in force at `at` for these items and globally, oldest first."""
    return select(UomConversion).where(
        col(UomConversion.lot_id).is_(None), col(UomConversion.status).in_(("ACTIVE", "APPROVED", "SUPERSEDED")),
        col(UomConversion.effective_from) <= at,
        or_(col(UomConversion.item_id).is_(None), col(UomConversion.item_id).in_(item_ids or {-1})),
    ).order_by(col(UomConversion.effective_from), col(UomConversion.version))


def newest_in_force(rows: list[UomConversion]) -> list[UomConversion]:
    """Of governed rows ordered oldest first, the newest in force for each (item, from, to)."""
    newest: dict[tuple, UomConversion] = {}
    for row in rows:
        newest[(row.item_id, row.from_uom, row.to_uom)] = row
    return list(newest.values())


def planner_conversions(rows: list[UomConversion], item_codes: dict[int, str]) -> tuple[usage.Conversion, ...]:
    """Governed rows as the pure core reads them; `usage.find_factor` alone owns precedence and direction."""
    return tuple(usage.Conversion(r.from_uom, r.to_uom, r.factor, item_codes[r.item_id] if r.item_id else None)
                 for r in rows if r.lot_id is None and (r.item_id is None or r.item_id in item_codes))


def has_conversion(conversions: tuple[usage.Conversion, ...], *, item_code: str, from_uom: str, to_uom: str) -> bool:
    try:
        usage.find_factor(item_code=item_code, from_uom=from_uom, to_uom=to_uom, conversions=conversions)
    except usage.MissingConversion:
        return False
    return True
