"""Rule sets under change control (SPEC §6): drafts, validation, signed approval, the active version.

Documents are data that QA edits; nothing here interprets a rule — the rules package does.
"""
from __future__ import annotations

import json
from datetime import datetime

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

import rules
from auth.principal import Principal
from backflush.governance import change_control
from backflush.governance.signatures import SignatureRequest
from backflush.reads.rule_sets import rule_set_in_sites
from backflush.services.arguments import choice_arg, text_arg
from backflush.services.masterdata import site_by_code
from kernel import audit
from kernel.errors import DomainError
from models import RuleSet

KINDS = frozenset(rules.vocabulary.KINDS)
APPROVER_ROLES = ("QA",)


def parse_document(document) -> dict:
    """A document arrives as a JSON object, or as JSON or YAML text."""
    if isinstance(document, str):
        try:
            document = yaml.safe_load(document)
        except yaml.YAMLError as error:
            raise DomainError("DOCUMENT_SYNTAX", f"the document is not valid YAML or JSON: {error}",
                              ["input", "document"]) from None
    if not isinstance(document, dict):
        raise DomainError("DOCUMENT_SYNTAX", "a rule set document is an object with rules and tests",
                          ["input", "document"])
    return json.loads(json.dumps(document, default=str))  # plain JSON types only, as stored


def create_draft(session: Session, principal: Principal, *, name: str, kind: str, document,
                 site_code: str | None) -> RuleSet:
    name = text_arg(name, "name", max_length=120)
    choice_arg(kind, "kind", KINDS)
    site = site_by_code(session, principal, site_code) if site_code else None
    family = session.scalars(select(RuleSet).where(col(RuleSet.name) == name)).all()
    if family and any(r.kind != kind for r in family):
        raise DomainError("RULE_SET_KIND_MISMATCH", f"rule set {name} is of another kind", ["input", "kind"])
    rule_set = RuleSet(name=name, kind=kind, version=1 + max((r.version for r in family), default=0),
                       site_id=site.id if site else None, document=parse_document(document), status="DRAFT",
                       created_by=principal.subject)
    session.add(rule_set)
    session.flush()
    audit.record(session, actor=principal.subject, action="rule_set.drafted", entity_type="rule_set",
                 entity_id=rule_set.id, after={"name": name, "kind": kind, "version": rule_set.version,
                                               "document": rule_set.document})
    return rule_set


def update_draft(session: Session, principal: Principal, *, rule_set_id: int | None, document) -> RuleSet:
    rule_set = rule_set_in_sites(session, principal, rule_set_id, lock=True)
    change_control.require_draft(rule_set, "rule_set")
    before = rule_set.document
    rule_set.document = parse_document(document)
    audit.record(session, actor=principal.subject, action="rule_set.updated", entity_type="rule_set",
                 entity_id=rule_set.id, before={"document": before}, after={"document": rule_set.document})
    return rule_set


def validate_rule_set(session: Session, principal: Principal, *, rule_set_id: int | None):
    rule_set = rule_set_in_sites(session, principal, rule_set_id)
    return rule_set, rules.validate(rule_set.document, rule_set.kind)


def approve_rule_set(session: Session, principal: Principal, *, rule_set_id: int | None,
                     signature: SignatureRequest | None, effective_from: datetime | None) -> RuleSet:
    rule_set = rule_set_in_sites(session, principal, rule_set_id, lock=True)
    change_control.require_draft(rule_set, "rule_set")
    if not principal.has_any_role(*APPROVER_ROLES):
        raise DomainError("ROLE_REQUIRED", "rule sets are approved by QA", ["input", "signature"])
    validation = rules.validate(rule_set.document, rule_set.kind)
    if not validation.valid:
        raise DomainError("RULE_SET_INVALID", "the draft does not validate: " + "; ".join(map(str, validation.errors)),
                          ["input", "id"])
    family = list(session.scalars(select(RuleSet).where(
        col(RuleSet.kind) == rule_set.kind, col(RuleSet.id) != rule_set.id,
        col(RuleSet.site_id).is_(None) if rule_set.site_id is None else col(RuleSet.site_id) == rule_set.site_id)
        .with_for_update()))
    change_control.approve(session, principal, record=rule_set, record_type="rule_set",
                           content={"name": rule_set.name, "kind": rule_set.kind, "version": rule_set.version,
                                    "site_id": rule_set.site_id, "document": rule_set.document},
                           signature=signature, effective_from=effective_from, family=family,
                           approver_roles=APPROVER_ROLES)
    return rule_set
