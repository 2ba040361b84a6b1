"""Install the shipped defaults (rules/defaults/*.yaml) as approved version 1 of each kind."""
from __future__ import annotations

from datetime import datetime, timezone

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

import rules
from auth.principal import SYSTEM
from backflush import audit
from models import RuleSet

# In force since before any trigger could exist, so history replays under them too.
SHIPPED_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=timezone.utc)


def install_defaults(session: Session, append_audit=audit.record) -> list[RuleSet]:
    """Idempotent. Shipped defaults are approved by the vendor release, audited as the system.

    A migration passes an `append_audit` that writes the audit row in that migration's schema.
    """
    installed = []
    for kind in sorted(rules.vocabulary.KINDS):
        name = f"default-{kind.lower().replace('_', '-')}"
        if session.scalar(select(RuleSet.id).where(RuleSet.name == name)):
            continue
        rule_set = RuleSet(name=name, kind=kind, version=1, status="ACTIVE", site_id=None,
                           document=yaml.safe_load(rules.default_source(kind)), effective_from=SHIPPED_EFFECTIVE_FROM,
                           created_by=SYSTEM.subject)
        session.add(rule_set)
        session.flush()
        append_audit(session, actor=SYSTEM.subject, action="rule_set.shipped_default_installed",
                     entity_type="rule_set", entity_id=rule_set.id,
                     after={"name": name, "kind": kind, "version": 1, "status": "ACTIVE"})
        installed.append(rule_set)
    return installed
