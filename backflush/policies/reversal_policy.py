"""The seams where QA's rules decide exceptions: who must sign a reversal (REVERSAL_SIGNATURE) and
which close variances open deviations (DEVIATION on `close_variance` facts).

The services ask a policy; the built-in ones carry SPEC §6's shipped defaults as code, and the
rules engine can provide ones backed by the active, approved rule sets. Like FlushPolicy, a policy
is prepared inside the command's transaction, and whatever it appends to `decisions` is stored
with the reversal or work order it decided (SPEC §6: every decision is kept).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from backflush.policies.policy import DecisionRecord
from models import RuleDecision
from rules.decision import DeviationRequest

VALUE_NEEDING_TWO_SIGNERS = Decimal(1000)
VARIANCE_LIMIT_PERCENT = Decimal(5)
REASON_CODE_LENGTH = 60  # Deviation.reason_code


@dataclass(frozen=True)
class SignatureRequirement:
    """At least `count` distinct signers, each holding one of `roles`, stating `meaning`."""

    count: int
    roles: tuple[str, ...]
    meaning: str

    def to_json(self) -> dict:
        return {"count": self.count, "roles": list(self.roles), "meaning": self.meaning}

    @classmethod
    def from_json(cls, value: Mapping) -> SignatureRequirement:
        return cls(int(value["count"]), tuple(value["roles"]), value["meaning"])


class ReversalPolicy(Protocol):
    decisions: list[DecisionRecord]

    def prepare(self, session, *, work_order, at) -> None:
        """Called once per decision, inside the command's transaction."""

    def requirements(self, reversal_fact: dict) -> list[SignatureRequirement]:
        """The signatures a reversal needs before it executes; they add up (see `unmet`)."""


class ClosePolicy(Protocol):
    decisions: list[DecisionRecord]

    def prepare(self, session, *, work_order, at) -> None:
        """Called once per decision, inside the command's transaction."""

    def variance_deviations(self, close_variance_facts: list[dict],
                            control_signal_facts: Sequence[dict] = ()) -> list[DeviationRequest]:
        """The deviations that the variances booked at close, and the control signals they raise, open."""


class BuiltinReversalPolicy:
    """SPEC §6 default: one SUPERVISOR or QA signature; two distinct signers, one of them QA, when
    the output lot is RELEASED or the reversal is worth more than 1000."""

    def __init__(self):
        self.decisions: list[DecisionRecord] = []

    def prepare(self, session, *, work_order, at) -> None:
        return None

    def requirements(self, reversal_fact: dict) -> list[SignatureRequirement]:
        either = ("QA", "SUPERVISOR")
        weighty = (reversal_fact.get("output_lot_status") == "RELEASED"
                   or Decimal(reversal_fact.get("value") or 0) > VALUE_NEEDING_TWO_SIGNERS)
        if not weighty:
            return [SignatureRequirement(1, either, "Reversal approved")]
        return [SignatureRequirement(2, either, "Reversal approved"),
                SignatureRequirement(1, ("QA",), "Reversal approved by QA")]


class BuiltinClosePolicy:
    """SPEC §6 default: a usage variance beyond ±5 % opens one deviation per component."""

    def __init__(self):
        self.decisions: list[DecisionRecord] = []

    def prepare(self, session, *, work_order, at) -> None:
        return None

    def variance_deviations(self, close_variance_facts: list[dict],
                            control_signal_facts: Sequence[dict] = ()) -> list[DeviationRequest]:
        # The SPEC §6 defaults open nothing on a control signal: QA decides that in a rule set.
        return [DeviationRequest(category="USAGE_VARIANCE", severity="MEDIUM",
                                 reason_code=f"USAGE_VARIANCE_{fact['component_code']}"[:REASON_CODE_LENGTH])
                for fact in close_variance_facts
                if fact.get("variance_percent") is not None
                and abs(Decimal(fact["variance_percent"])) > VARIANCE_LIMIT_PERCENT]


def unmet(requirements: Iterable[SignatureRequirement],
          signers: Mapping[str, Iterable[str]]) -> list[SignatureRequirement]:
    """Requirements not yet met by `signers` (distinct person → roles held when signing).

    A signer counts towards every requirement whose roles they hold, so "two signers" plus "one QA"
    is met by a supervisor and a QA lead, and not by two supervisors.
    """
    held = [set(roles) for roles in signers.values()]
    return [r for r in requirements if sum(1 for roles in held if roles & set(r.roles)) < r.count]


def store_decisions(session, policy: ReversalPolicy | ClosePolicy, *, work_order_id: int,
                    reversal_id: int | None = None) -> None:
    """Keep what the rule sets decided with the record they decided, once."""
    for d in policy.decisions:
        if d.rule_set_id is not None:
            session.add(RuleDecision(rule_set_id=d.rule_set_id, version=d.version, engine=d.engine, fired=d.fired,
                                     input_hash=d.input_hash, facts=d.facts, reversal_id=reversal_id,
                                     work_order_id=work_order_id))
    policy.decisions.clear()
    session.flush()
