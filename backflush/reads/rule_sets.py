"""The rule-set versions in force, and the rule sets a caller may see."""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Integer, Select, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.reads.records import visible_site_ids
from kernel.database import referenced_row
from kernel.errors import NotFound
from kernel.rows import present
from models import RuleSet, Site
from models.types import UtcDateTime, utcnow
from rules.vocabulary import KINDS


def active_rule_set(session: Session, *, kind: str, site_id: int | None, at: datetime | None = None) -> RuleSet | None:
    return active_rule_sets(session, kinds=(kind,), site_id=site_id, at=at)[kind]


def active_rule_sets(session: Session, *, kinds: tuple[str, ...], site_id: int | None,
                     at: datetime | None = None) -> dict[str, RuleSet | None]:
    """The version in force per kind, in one statement: the site's own when it has one, else the
    plant-wide one; the latest effective wins."""
    return _best(session.scalars(_in_force(select(RuleSet), kinds=kinds, site_id=site_id, at=at)), kinds)


@dataclass(frozen=True)
class VersionInForce:
    """Which approved version decides, without its document: an approved version is never edited (only
    drafts are), so its id names its rules for good and whoever compiled them once can keep them."""
    id: int
    kind: str
    version: int
    site_id: int | None
    effective_from: datetime


def versions_in_force_by_kind(session: Session, *, kinds: tuple[str, ...], site_id: int | None,
                              at: datetime | None = None) -> dict[str, VersionInForce | None]:
    """As active_rule_sets, reading no document: what every trigger asks (issue 12), in a statement built once."""
    rows = session.execute(_versions_in_force(), {"kinds": kinds, "site_id": site_id, "at": at or utcnow()})
    return _best((VersionInForce(present(id_, "a stored row's id"), kind, version, site_id_, present(since, "effective from"))
                  for id_, kind, version, site_id_, since in rows), kinds)


@functools.cache
def _versions_in_force() -> Select[int | None, str, int, int | None, datetime | None]:
    return select(col(RuleSet.id), col(RuleSet.kind), col(RuleSet.version), col(RuleSet.site_id),
                  col(RuleSet.effective_from)).where(
        col(RuleSet.kind).in_(bindparam("kinds", expanding=True)),
        col(RuleSet.status).in_(("APPROVED", "ACTIVE", "SUPERSEDED")),
        col(RuleSet.effective_from) <= bindparam("at", type_=UtcDateTime()),
        or_(col(RuleSet.site_id).is_(None), col(RuleSet.site_id) == bindparam("site_id", type_=Integer())))


def _in_force(query: _Query, *, kinds: tuple[str, ...], site_id: int | None, at: datetime | None) -> _Query:
    return query.where(
        col(RuleSet.kind).in_(kinds), col(RuleSet.status).in_(("APPROVED", "ACTIVE", "SUPERSEDED")),
        col(RuleSet.effective_from) <= (at or utcnow()),
        or_(col(RuleSet.site_id).is_(None), col(RuleSet.site_id) == site_id))


_Version = TypeVar("_Version", RuleSet, VersionInForce)
_Query = TypeVar("_Query", bound=Select)


def _best(rows: Iterable[_Version], kinds: tuple[str, ...]) -> dict[str, _Version | None]:
    best: dict[str, _Version | None] = dict.fromkeys(kinds)
    for row in rows:
        rank = (row.site_id is not None, row.effective_from, row.version)
        current = best[row.kind]
        if current is None or rank > (current.site_id is not None, current.effective_from, current.version):
            best[row.kind] = row
    return best


def rule_set_in_sites(session: Session, principal: Principal, rule_set_id: int | None, *, lock: bool = False) -> RuleSet:
    query = select(RuleSet).where(col(RuleSet.id) == rule_set_id)
    rule_set = session.scalar(query.with_for_update() if lock else query) if rule_set_id else None
    if (rule_set is not None and rule_set.site_id is not None
            and not principal.sees_site(referenced_row(session, Site, rule_set.site_id).code)):
        rule_set = None
    if rule_set is None:
        raise NotFound("rule set", ["input", "id"])
    return rule_set


def rule_sets(session: Session, principal: Principal, *, kind: str | None) -> list[RuleSet]:
    """Plant-wide rule sets and those of the principal's sites."""
    query = select(RuleSet).order_by(col(RuleSet.kind), col(RuleSet.name), col(RuleSet.version))
    site_ids = visible_site_ids(session, principal)
    if site_ids is not None:
        query = query.where(or_(col(RuleSet.site_id).is_(None), col(RuleSet.site_id).in_(site_ids)))
    if kind:
        query = query.where(col(RuleSet.kind) == kind)
    return list(session.scalars(query))


def versions_in_force(session: Session, *, at: datetime | None = None) -> list[tuple[str, str, int | None]]:
    """(site code, kind, version or None) for every site and kind: what decides a trigger there now."""
    return [(site.code, kind, row.version if row is not None else None)
            for site in session.scalars(select(Site).order_by(col(Site.code)))
            for kind, row in sorted(active_rule_sets(session, kinds=tuple(sorted(KINDS)), site_id=site.id, at=at).items())]
