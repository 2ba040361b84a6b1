"""Sites, locations and items: master data that other records point at."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.vocabulary import LocationKind
from backflush.services.arguments import choice_arg, decimal_arg, text_arg
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError, NotFound
from models import Item, Location, Site
from models.stored import stored_id

LOCATION_KINDS = frozenset(LocationKind)
ROUNDINGS = frozenset({"HALF_UP", "UP", "DOWN"})
# Site codes are written into grants ("*" reads as every site) and audit rows: upper-case letters and digits,
# with '-', '_' or '.' inside, at most 40; words a grant or a reader could take for "every site" are reserved.
SITE_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9._-]{0,38}[A-Z0-9])?")
RESERVED_SITE_CODES = frozenset({"*", "ALL", "ANY", "EVERY", "GLOBAL", "NONE", "NULL", "SYSTEM"})


def create_site(session: Session, principal: Principal, *, code: str, name: str) -> Site:
    code = site_code_arg(code)
    if session.scalar(select(Site).where(col(Site.code) == code)):
        raise DomainError("DUPLICATE_CODE", f"site {code} exists", ["input", "code"])
    site = Site(code=code, name=text_arg(name, "name"))
    session.add(site)
    session.flush()
    audit.record(session, actor=principal.subject, action="site.created", entity_type="site",
                 entity_id=site.id, after={"code": code, "name": site.name})
    return site


def site_code_arg(code) -> str:
    code = code.strip() if isinstance(code, str) else code
    if isinstance(code, str) and code.upper() in RESERVED_SITE_CODES:
        raise DomainError("SITE_CODE_RESERVED", f"{code!r} is reserved: grants read it as every site or none",
                          ["input", "code"])
    if not isinstance(code, str) or not SITE_CODE.fullmatch(code):
        raise DomainError("SITE_CODE_INVALID", "a site code is 1 to 40 upper-case letters and digits, with '-', '_' "
                          "or '.' between them", ["input", "code"])
    return code


def site_by_code(session: Session, principal: Principal, code: str, field: str = "siteCode") -> Site:
    site = session.scalar(select(Site).where(col(Site.code) == code))
    if site is None or not principal.sees_site(site.code):
        raise NotFound(f"site {code}", ["input", field])
    return site


def create_location(session: Session, principal: Principal, *, site_code: str, code: str, kind: str) -> Location:
    site = site_by_code(session, principal, site_code)
    code = text_arg(code, "code", max_length=40)
    choice_arg(kind, "kind", LOCATION_KINDS)
    if session.scalar(select(Location).where(col(Location.site_id) == site.id, col(Location.code) == code)):
        raise DomainError("DUPLICATE_CODE", f"location {code} exists at {site.code}", ["input", "code"])
    location = Location(site_id=stored_id(site), code=code, kind=kind)
    session.add(location)
    session.flush()
    audit.record(session, actor=principal.subject, action="location.created", entity_type="location",
                 entity_id=location.id, after={"site": site.code, "code": code, "kind": kind})
    return location


def location_in_sites(session: Session, principal: Principal, location_id: int | None, field: str) -> Location:
    location = session.get(Location, location_id) if location_id else None
    if location is None or not principal.sees_site(referenced_row(session, Site, location.site_id).code):
        raise NotFound("location", ["input", field])
    return location


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    base_uom: str
    precision: int
    rounding: str = "HALF_UP"
    lot_controlled: bool = True
    serialized: bool = False
    variable_potency: bool = False
    phantom: bool = False
    shelf_life_days: int | None = None
    standard_cost: object = None  # raw wire value; parsed here


def create_item(session: Session, principal: Principal, spec: ItemSpec) -> Item:
    code = text_arg(spec.code, "code", max_length=60)
    if session.scalar(select(Item).where(col(Item.code) == code)):
        raise DomainError("DUPLICATE_CODE", f"item {code} exists", ["input", "code"])
    if not 0 <= spec.precision <= 9:
        raise DomainError("INVALID_PRECISION", "precision is 0 to 9 decimal places", ["input", "precision"])
    if spec.shelf_life_days is not None and spec.shelf_life_days <= 0:
        raise DomainError("INVALID_SHELF_LIFE", "shelfLifeDays must be positive", ["input", "shelfLifeDays"])
    item = Item(
        code=code, name=text_arg(spec.name, "name"), base_uom=text_arg(spec.base_uom, "baseUom", max_length=20),
        precision=spec.precision, rounding=choice_arg(spec.rounding or "HALF_UP", "rounding", ROUNDINGS),
        lot_controlled=spec.lot_controlled, serialized=spec.serialized, variable_potency=spec.variable_potency,
        phantom=spec.phantom, shelf_life_days=spec.shelf_life_days,
        standard_cost=None if spec.standard_cost is None else decimal_arg(spec.standard_cost, "standardCost", non_negative=True),
    )
    session.add(item)
    session.flush()
    audit.record(session, actor=principal.subject, action="item.created", entity_type="item", entity_id=item.id,
                 after=item.model_dump(exclude={"id"}))
    return item


def item_by_code(session: Session, code: str, field: str = "itemCode") -> Item:
    item = session.scalar(select(Item).where(col(Item.code) == code))
    if item is None:
        raise NotFound(f"item {code}", ["input", field])
    return item
