"""The seam where QA's rule sets decide eligibility, blocking and deviations for a flush.

The posting service asks a `FlushPolicy`; the built-in one carries SPEC §6's shipped defaults as
code, and the rules engine provides one backed by the active, approved rule sets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from backflush.core.allocation import Binding
from backflush.core.error_codes import ErrorCode
from backflush.core.plan import CLOCK_SKEW_LIMIT_SECONDS, BlockReason, Requirement
from rules.decision import DeviationRequest


@dataclass(frozen=True)
class DecisionRecord:
    """What a rule set decided and why; stored with the trigger it decided."""

    rule_set_id: int | None
    version: int
    engine: str
    fired: list[dict]
    input_hash: str
    facts: dict


@dataclass
class FlushVerdict:
    """Filled in by a policy while a trigger is planned."""

    decisions: list[DecisionRecord] = field(default_factory=list)


class FlushPolicy(Protocol):
    @property
    def clock_skew_limit(self) -> Decimal | None:
        """Seconds; None when the BLOCKING rules own the limit (read only: a policy may compute it)."""

    def prepare(self, session, *, work_order, at) -> None:
        """Called once per evaluation, inside the command's transaction."""

    def excluded_bindings(self, bindings: tuple[Binding, ...], *, verdict: FlushVerdict) -> set:
        """Ids of the staged bindings (`Binding.binding_id`, never lot ids) the ELIGIBILITY rules exclude."""

    def block_reasons(self, trigger: dict, requirements: tuple[Requirement, ...], *,
                      verdict: FlushVerdict) -> list[BlockReason]:
        """Extra reasons from the BLOCKING rules (built-in checks already ran)."""

    def deviations_for_block(self, blocked_flush: dict, *, verdict: FlushVerdict) -> list[DeviationRequest]:
        """What the DEVIATION rules open for a blocked flush."""


OPERATION_AHEAD = ErrorCode.OPERATION_AHEAD


class BuiltinPolicy:
    """The shipped defaults as code, for when no rule set is in force: the planner already excludes
    expired and unreleased lots, clock skew over 120 s blocks, an operation running ahead of its
    predecessor blocks, every block opens a deviation."""

    clock_skew_limit = CLOCK_SKEW_LIMIT_SECONDS

    def prepare(self, session, *, work_order, at) -> None:
        return None

    def excluded_bindings(self, bindings, *, verdict) -> set:
        return set()

    def block_reasons(self, trigger, requirements, *, verdict) -> list[BlockReason]:
        if trigger.get("good_ahead_of_previous_operation", 0) > 0:
            return [BlockReason(OPERATION_AHEAD, f"operation {trigger['operation_seq']} would have "
                                f"{trigger['cumulative_good_quantity']} good, more than its predecessor's "
                                f"{trigger['previous_operation_good']} plus the over-production allowance")]
        return []

    def deviations_for_block(self, blocked_flush, *, verdict) -> list[DeviationRequest]:
        return [DeviationRequest(category="BLOCKED_FLUSH", severity="MINOR", reason_code=code)
                for code in blocked_flush["reason_codes"]]
