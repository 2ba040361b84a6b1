"""Replay a draft rule set against the facts recorded in a period: "what would it have decided?"

Recorded decisions keep their input facts, so a draft is judged on exactly what the engine saw.
Drafts run on the pure-Python evaluator: compiling unapproved documents into the server's
durable-rules host would leak (see STYLE.md); both engines agree on every test case.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

import rules
from auth.principal import Principal
from backflush.reads.records import visible_site_ids
from backflush.reads.rule_sets import rule_set_in_sites
from models import RuleDecision, RuleSet, Trigger, WorkOrder


@dataclass(frozen=True)
class Simulation:
    evaluated: int
    changed: int
    details: list[dict]


def simulate(session: Session, principal: Principal, *, rule_set_id: int | None, since: datetime,
             until: datetime) -> Simulation:
    draft = rule_set_in_sites(session, principal, rule_set_id)
    candidate = rules.load_ruleset(draft.document, ruleset_id=f"draft-{draft.id}", version=draft.version, kind=draft.kind)
    site_ids = visible_site_ids(session, principal)
    rows = session.execute(
        select(RuleDecision, col(Trigger.idempotency_key), col(WorkOrder.number))
        .join(RuleSet, col(RuleSet.id) == col(RuleDecision.rule_set_id))
        .outerjoin(Trigger, col(Trigger.id) == col(RuleDecision.trigger_id))
        .outerjoin(WorkOrder, col(WorkOrder.id) == col(RuleDecision.work_order_id))
        .where(col(RuleSet.kind) == draft.kind, col(RuleDecision.decided_at) >= since, col(RuleDecision.decided_at) < until,
               *([col(WorkOrder.site_id).in_(site_ids)] if site_ids is not None else []))
        .order_by(col(RuleDecision.id))).all()
    details = []
    for recorded, key, number in rows:
        before = outcome(recorded.fired)
        after = outcome([{"rule_id": f.rule_id, "action": f.action, "params": f.params}
                         for f in rules.evaluate(candidate, recorded.facts, engine="python-ref").fired])
        if before != after:
            details.append({"decision_id": recorded.id, "trigger_id": recorded.trigger_id,
                            "reversal_id": recorded.reversal_id, "idempotency_key": key, "work_order": number,
                            "before": before, "after": after})
    return Simulation(evaluated=len(rows), changed=len(details), details=details)


def outcome(fired: list[dict]) -> list[str]:
    """What a decision did, independent of which rule ids said it: comparable across versions."""
    said = set()
    for firing in fired:
        params = firing.get("params") or {}
        if firing["action"] in ("block", "exclude"):
            said.add(f"{firing['action']}:{params.get('code')}")
        elif firing["action"] == "open_deviation":
            said.add(f"open_deviation:{params.get('category')}:{params.get('severity')}")
        else:
            said.add(f"{firing['action']}:{params.get('count')}:{','.join(sorted(params.get('roles', [])))}")
    return sorted(said)
