"""Discovery and the correction worklist: what a caller may list, within its sites.

Sites, locations, lots and triggers belong to a site and are listed only from the caller's sites (a
site code the caller may not see lists nothing, as an unknown one does). Items are master data shared
by every site.
"""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.reads.paging import Page, keyset_page
from backflush.reads.records import visible_site_ids
from models import Item, Location, Lot, Site, Trigger


def _site_filter(session: Session, principal: Principal, model, site_code: str | None):
    """A WHERE clause keeping `model`'s rows in the caller's sites (and in `site_code`, when given)."""
    visible = visible_site_ids(session, principal)
    clauses = [] if visible is None else [model.site_id.in_(visible)]
    if site_code is not None:
        clauses.append(model.site_id.in_(select(col(Site.id)).where(col(Site.code) == site_code)))
    return clauses


def visible_sites(session: Session, principal: Principal) -> list[Site]:
    visible = visible_site_ids(session, principal)
    statement = select(Site).order_by(col(Site.code))
    if visible is not None:
        statement = statement.where(col(Site.id).in_(visible))
    return list(session.scalars(statement))


def visible_locations(session: Session, principal: Principal, *, site_code: str | None,
                      kind: str | None) -> list[Location]:
    statement = (select(Location).join(Site, col(Site.id) == col(Location.site_id))
                 .where(*_site_filter(session, principal, Location, site_code))
                 .order_by(col(Site.code), col(Location.code)))
    if kind is not None:
        statement = statement.where(col(Location.kind) == kind)
    return list(session.scalars(statement))


def items_page(session: Session, *, search: str | None, first: int | None, after_id: int | None) -> Page:
    """Items whose code or name contains `search` (any case)."""
    statement = select(Item)
    if search:
        needle = search.lower()
        statement = statement.where(or_(func.lower(col(Item.code)).contains(needle, autoescape=True),
                                        func.lower(col(Item.name)).contains(needle, autoescape=True)))
    return keyset_page(session, statement, Item, first=first, after_id=after_id)


def lots_page(session: Session, principal: Principal, *, item_code: str | None, status: str | None,
              site_code: str | None, first: int | None, after_id: int | None) -> Page:
    statement = select(Lot).where(*_site_filter(session, principal, Lot, site_code))
    if item_code is not None:
        statement = statement.where(col(Lot.item_id).in_(select(col(Item.id)).where(col(Item.code) == item_code)))
    if status is not None:
        statement = statement.where(col(Lot.status) == status)
    return keyset_page(session, statement, Lot, first=first, after_id=after_id)


def blocked_triggers_page(session: Session, principal: Principal, *, site_code: str | None, first: int | None,
                          after_id: int | None) -> Page:
    """Every BLOCKED trigger the caller may see, oldest first (ids follow arrival): the correction worklist."""
    statement = select(Trigger).where(col(Trigger.outcome) == "BLOCKED",
                                      *_site_filter(session, principal, Trigger, site_code))
    return keyset_page(session, statement, Trigger, first=first, after_id=after_id)
