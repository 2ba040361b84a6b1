"""A recorded decision never claims an effect its posting did not have: the exclusion check.

For every POSTED trigger, the staged bindings that the ELIGIBILITY decision of its posting excluded
must not appear among its BACKFLUSH_ISSUE draws. Tests call it, and so can an auditor
(`backflush check-exclusions`). Decisions recorded before migration 0004 carry no outcome; for those
the trigger's last ELIGIBILITY decision is taken as its posting's (a retried trigger decided last when
it posted).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from backflush.core.vocabulary import TriggerOutcome
from models import LedgerEntry, Lot, RuleDecision, RuleSet, Trigger
from models.stored import stored_id
from rules.facts import parse_ref


@dataclass(frozen=True)
class ExclusionBreach:
    trigger_id: int
    decision_id: int
    binding_id: int
    lot_number: str
    quantity: Decimal  # drawn from the excluded binding, component base uom
    rule_ids: tuple[str, ...]
    codes: tuple[str, ...]


def exclusion_breaches(session: Session, *, trigger_ids: Iterable[int] | None = None) -> list[ExclusionBreach]:
    """Every draw of a POSTED trigger from a binding its posting's ELIGIBILITY decision excluded."""
    claims: dict[int, dict[int, tuple[int, set[str], set[str]]]] = defaultdict(dict)
    for trigger_id, decision in _posting_decisions(session, trigger_ids):
        for binding_id, (rule_ids, codes) in _excluded_bindings(decision).items():
            claims[trigger_id][binding_id] = (stored_id(decision), rule_ids, codes)
    if not claims:
        return []
    draws = session.execute(
        select(col(LedgerEntry.trigger_id), col(LedgerEntry.staged_lot_id), col(Lot.lot_number), col(LedgerEntry.quantity))
        .join(Lot, col(Lot.id) == col(LedgerEntry.lot_id))
        .where(col(LedgerEntry.kind) == "BACKFLUSH_ISSUE", col(LedgerEntry.trigger_id).in_(list(claims)))
        .order_by(col(LedgerEntry.trigger_id), col(LedgerEntry.id)))
    return [ExclusionBreach(trigger_id, claim[0], binding_id, lot_number, quantity,
                            tuple(sorted(claim[1])), tuple(sorted(claim[2])))
            for trigger_id, binding_id, lot_number, quantity in draws
            if trigger_id is not None and binding_id is not None  # the IN filter and a claim's key rule out None
            and (claim := claims[trigger_id].get(binding_id)) is not None]


def _posting_decisions(session: Session, trigger_ids: Iterable[int] | None) -> list[tuple[int, RuleDecision]]:
    """(trigger id, decision) of each posting decision; the join to Trigger guarantees the trigger id."""
    query = (select(RuleDecision).join(RuleSet, col(RuleSet.id) == col(RuleDecision.rule_set_id))
             .join(Trigger, col(Trigger.id) == col(RuleDecision.trigger_id))
             .where(col(RuleSet.kind) == "ELIGIBILITY", col(Trigger.outcome) == TriggerOutcome.POSTED,
                    or_(col(RuleDecision.outcome) == TriggerOutcome.POSTED, col(RuleDecision.outcome).is_(None)))
             .order_by(col(RuleDecision.trigger_id), col(RuleDecision.id)))
    if trigger_ids is not None:
        query = query.where(col(RuleDecision.trigger_id).in_(list(trigger_ids)))
    by_trigger: dict[int, list[RuleDecision]] = defaultdict(list)
    for decision in session.scalars(query):
        if decision.trigger_id is not None:  # always: the query joins the trigger
            by_trigger[decision.trigger_id].append(decision)
    return [(trigger_id, d) for trigger_id, decisions in by_trigger.items()
            for d in ([d for d in decisions if d.outcome == TriggerOutcome.POSTED] or decisions[-1:])]


def _excluded_bindings(decision: RuleDecision) -> dict[int, tuple[set[str], set[str]]]:
    """Binding id → (rules, codes) of every candidate the decision's `exclude` firings named."""
    candidates = (decision.facts or {}).get("candidate_lot", [])
    excluded: dict[int, tuple[set[str], set[str]]] = {}
    for firing in decision.fired or ():
        if firing.get("action") != "exclude":
            continue
        for ref in firing.get("facts", ()):
            fact_type, index = parse_ref(ref)
            if fact_type == "candidate_lot" and candidates[index].get("candidate_id") is not None:
                rule_ids, codes = excluded.setdefault(int(candidates[index]["candidate_id"]), (set(), set()))
                rule_ids.add(firing["rule_id"])
                codes.add(firing["params"]["code"])
    return excluded
