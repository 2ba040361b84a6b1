"""Install the shipped defaults (rules/defaults/*.yaml) as approved version 1 of each kind, and bring
existing databases to a default a later release changed — without overriding a version QA approved."""
from __future__ import annotations

from datetime import UTC, datetime

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

import rules
from auth.principal import SYSTEM
from backflush.governance import change_control
from backflush.reads.rule_sets import active_rule_set
from kernel import audit
from models import RuleSet
from models.types import utcnow

# In force since before any trigger could exist, so history replays under them too.
SHIPPED_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)


def default_name(kind: str) -> str:
    return f"default-{kind.lower().replace('_', '-')}"


def install_defaults(session: Session) -> list[RuleSet]:
    """Idempotent. Shipped defaults are approved by the vendor release, audited as the system."""
    installed = []
    for kind in sorted(rules.vocabulary.KINDS):
        name = default_name(kind)
        if session.scalar(select(col(RuleSet.id)).where(col(RuleSet.name) == name)):
            continue
        rule_set = RuleSet(name=name, kind=kind, version=1, status="ACTIVE", site_id=None,
                           document=yaml.safe_load(rules.default_source(kind)), effective_from=SHIPPED_EFFECTIVE_FROM,
                           created_by=SYSTEM.subject)
        session.add(rule_set)
        session.flush()
        audit.record(session, actor=SYSTEM.subject, action="rule_set.shipped_default_installed",
                     entity_type="rule_set", entity_id=rule_set.id,
                     after={"name": name, "kind": kind, "version": 1, "status": "ACTIVE"})
        installed.append(rule_set)
    return installed


def ship_changed_default(session: Session, kind: str) -> RuleSet | None:
    """Offer the shipped default of `kind` to a database that holds an older one (idempotent).

    Plant-wide, when the version in force is a shipped default (QA never approved one of their own),
    the new document becomes the next version of the default, ACTIVE from now — as version 1 was, it is
    approved by the vendor release — and the old one SUPERSEDED. When QA's own version is in force, it
    stays in force: the new default is left as a DRAFT for QA to review, merge or approve, and the audit
    trail says so. Site versions are QA's by construction and win over plant-wide ones; they are untouched.
    Returns the row added, or None when the database already holds this document.
    """
    document = yaml.safe_load(rules.default_source(kind))
    name = default_name(kind)
    family = list(session.scalars(select(RuleSet).where(col(RuleSet.name) == name).with_for_update()))
    if any(row.document == document for row in family):
        return None
    now = utcnow()
    in_force = active_rule_set(session, kind=kind, site_id=None, at=now)
    qa_version = in_force if in_force is not None and in_force.created_by != SYSTEM.subject else None
    qa_owns = qa_version is not None
    row = RuleSet(name=name, kind=kind, version=1 + max((r.version for r in family), default=0), site_id=None,
                  document=document, status="DRAFT" if qa_owns else "APPROVED",
                  effective_from=None if qa_owns else now, created_by=SYSTEM.subject)
    session.add(row)
    session.flush()
    if qa_version is not None:
        audit.record(session, actor=SYSTEM.subject, action="rule_set.shipped_default_offered", entity_type="rule_set",
                     entity_id=row.id, after={"name": name, "kind": kind, "version": row.version, "status": "DRAFT",
                                              "in_force": {"name": qa_version.name, "version": qa_version.version}},
                     reason="QA's own version is in force; the changed default waits for QA's review")
        return row
    audit.record(session, actor=SYSTEM.subject, action="rule_set.shipped_default_installed", entity_type="rule_set",
                 entity_id=row.id, after={"name": name, "kind": kind, "version": row.version, "status": "APPROVED"})
    plant_wide = list(session.scalars(select(RuleSet).where(col(RuleSet.kind) == kind, col(RuleSet.site_id).is_(None))))
    change_control.settle(session, SYSTEM, record_type="rule_set", family=plant_wide, now=now)
    return row
