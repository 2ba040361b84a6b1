"""Reversal signatures and close-variance deviations decided by QA's active rule sets.

Same pattern as RulesFlushPolicy: which version is in force is read per command; a kind with no
version in force falls back to the built-in SPEC §6 defaults.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

import rules
from backflush.policies.policy import DecisionRecord
from backflush.policies.reversal_policy import (
    REASON_CODE_LENGTH,
    BuiltinClosePolicy,
    BuiltinReversalPolicy,
    SignatureRequirement,
)
from backflush.policies.rules_policy import evaluate_version, record_of
from backflush.reads.rule_sets import active_rule_set
from models import WorkOrder
from rules.decision import DeviationRequest
from rules.facts import parse_ref


class _RuleBacked:
    kind = ""

    def __init__(self):
        self.decisions: list[DecisionRecord] = []
        self.rule_set = None

    def prepare(self, session: Session, *, work_order: WorkOrder, at: datetime) -> None:
        self.rule_set = active_rule_set(session, kind=self.kind, site_id=work_order.site_id, at=at)

    def _decide(self, facts: dict) -> rules.Decision:
        decision = evaluate_version(self.rule_set, facts)
        self.decisions.append(record_of(self.rule_set, decision))
        return decision


class RulesReversalPolicy(_RuleBacked):
    kind = "REVERSAL_SIGNATURE"

    def requirements(self, reversal_fact: dict) -> list[SignatureRequirement]:
        if self.rule_set is None:
            return BuiltinReversalPolicy().requirements(reversal_fact)
        decision = self._decide({"reversal": [{k: v for k, v in reversal_fact.items() if v is not None}]})
        if decision.signatures is None:
            # No rule asked for a signature: a reversal still never executes unsigned (Part 11).
            return [SignatureRequirement(1, ("QA", "SUPERVISOR"), "Reversal approved")]
        return essential([SignatureRequirement(r.count, tuple(sorted(r.roles)), r.meaning)
                          for r in decision.signatures.requirements])


def essential(requirements: list[SignatureRequirement]) -> list[SignatureRequirement]:
    """Drop requirements another one already implies (1 of QA|SUPERVISOR is implied by 2 of them),
    most demanding first, so the signers are shown what is really needed."""
    kept: list[SignatureRequirement] = []
    for r in sorted(requirements, key=lambda r: (-r.count, len(r.roles), r.roles, r.meaning)):
        if not any(k.count >= r.count and set(k.roles) <= set(r.roles) for k in kept):
            kept.append(r)
    return kept


class RulesClosePolicy(_RuleBacked):
    kind = "DEVIATION"

    def variance_deviations(self, close_variance_facts: list[dict],
                            control_signal_facts: Sequence[dict] = ()) -> list[DeviationRequest]:
        if self.rule_set is None:
            return BuiltinClosePolicy().variance_deviations(close_variance_facts, control_signal_facts)
        facts = {name: [{k: v for k, v in fact.items() if v is not None} for fact in given]
                 for name, given in (("close_variance", close_variance_facts),
                                     ("control_signal", control_signal_facts)) if given}
        if not facts:
            return []
        decision = self._decide(facts)
        opened = []
        for request in decision.deviations:
            for ref in request.facts:
                fact_type, index = parse_ref(ref)
                prefix = _REASON_PREFIX[fact_type]
                code = f"{prefix}_{facts[fact_type][index]['component_code']}"[:REASON_CODE_LENGTH]
                opened.append(DeviationRequest(category=request.category, severity=request.severity, reason_code=code))
        return opened


_REASON_PREFIX = {"close_variance": "USAGE_VARIANCE", "control_signal": "CONTROL_SIGNAL"}
