"""What a rule set decided, computed by our code from the fired rules in a fixed order.

Engines report firings in whatever order they fire; the outcome never depends on it: firings are
sorted by rule id (then fact references) and combined by the rules below.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backflush.core.plan import BlockReason
from rules.facts import parse_ref


@dataclass(frozen=True)
class Firing:
    rule_id: str
    action: str
    params: dict[str, Any]
    facts: tuple[str, ...]  # references such as "candidate_lot[2]", one per matched pattern

    def to_record(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "action": self.action, "params": self.params, "facts": list(self.facts)}


@dataclass(frozen=True)
class DeviationRequest:
    """A deviation to open (or attach to). A rule's request names the rule and the facts it matched and
    leaves the reason code empty: the policy acting on it names the code, one deviation per code (the
    built-in policies name no rule). Only requests with a code reach the services."""

    category: str
    severity: str
    rule_id: str | None = None
    facts: tuple[str, ...] = ()
    reason_code: str = ""


@dataclass(frozen=True)
class SignatureRequirement:
    """At least ``count`` distinct signers each holding one of ``roles``."""
    count: int
    roles: tuple[str, ...]
    meaning: str
    rule_id: str


@dataclass(frozen=True)
class SignaturePolicy:
    count: int                      # the highest count any rule required
    roles: tuple[str, ...]          # union of the roles, sorted
    meaning: str                    # from the highest-count rule, ties by rule id
    requirements: tuple[SignatureRequirement, ...]

    def is_met_by(self, signers: Mapping[str, Iterable[str]]) -> bool:
        """``signers`` maps each distinct signer to their roles; every requirement must hold."""
        return not self.unmet(signers)

    def unmet(self, signers: Mapping[str, Iterable[str]]) -> tuple[SignatureRequirement, ...]:
        """Requirements not yet met; a signer may count towards several (a QA supervisor)."""
        held = [set(roles) for roles in signers.values()]
        return tuple(r for r in self.requirements
                     if sum(1 for roles in held if roles & set(r.roles)) < r.count)


@dataclass(frozen=True)
class Decision:
    ruleset_id: str
    version: int
    engine: str
    input_hash: str
    fired: tuple[Firing, ...]
    block_reasons: tuple[BlockReason, ...] = ()
    excluded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # candidate id → codes
    deviations: tuple[DeviationRequest, ...] = ()
    signatures: SignaturePolicy | None = None
    # The built input facts the decision was made on, for whoever stores the decision with its record.
    facts: Mapping[str, Sequence[Mapping[str, object]]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def blocked(self) -> bool:
        return bool(self.block_reasons)

    @property
    def block_codes(self) -> tuple[str, ...]:
        return tuple(sorted({r.code for r in self.block_reasons}))

    def to_record(self) -> dict[str, Any]:
        """What SPEC §6 says every decision stores: rule set, version, rules fired, input hash."""
        return {"ruleset_id": self.ruleset_id, "version": self.version, "engine": self.engine,
                "input_hash": self.input_hash, "fired": [f.to_record() for f in self.fired]}


def ordered(firings: Iterable[Firing]) -> tuple[Firing, ...]:
    return tuple(sorted(firings, key=_order))


def _order(firing: Firing) -> tuple[str, tuple[str, ...]]:
    return firing.rule_id, firing.facts


def decide(*, ruleset_id: str, version: int, engine: str, input_hash: str,
           firings: Iterable[Firing], facts: Mapping[str, Sequence[Mapping[str, object]]]) -> Decision:
    fired = ordered(firings)
    if not fired:  # most decisions: nothing to combine
        return Decision(ruleset_id=ruleset_id, version=version, engine=engine, input_hash=input_hash,
                        fired=fired, facts=facts)
    by_action: dict[str, list[Firing]] = {action: [] for action in _COMBINE}
    for firing in fired:
        if (group := by_action.get(firing.action)) is not None:
            group.append(firing)
    blocks, excludes, deviations, signatures = by_action.values()
    return Decision(
        ruleset_id=ruleset_id, version=version, engine=engine, input_hash=input_hash, fired=fired,
        block_reasons=tuple([BlockReason(code=f.params["code"], message=f.params["message"], rule_id=f.rule_id,
                                         facts=f.facts) for f in blocks]),
        excluded=_exclusions(excludes, facts) if excludes else {},
        deviations=tuple([DeviationRequest(f.params["category"], f.params["severity"], f.rule_id, f.facts)
                          for f in deviations]),
        signatures=_signature_policy(signatures) if signatures else None,
        facts=facts,
    )


_COMBINE = ("block", "exclude", "open_deviation", "require_signatures")


def _exclusions(firings: Sequence[Firing], facts: Mapping[str, Sequence[Mapping[str, object]]]
                ) -> dict[str, tuple[str, ...]]:
    codes: dict[str, set[str]] = {}
    for firing in firings:
        for ref in firing.facts:
            codes.setdefault(candidate_key(ref, facts), set()).add(firing.params["code"])
    return {key: tuple(sorted(found)) for key, found in sorted(codes.items())}


def candidate_key(ref: str, facts: Mapping[str, Sequence[Mapping[str, object]]]) -> str:
    """The candidate id of a candidate_lot fact, else its lot number, else its reference."""
    fact_type, index = parse_ref(ref)
    fact = facts[fact_type][index]
    return str(fact.get("candidate_id") or fact.get("lot_number") or ref)


def _signature_policy(firings: Sequence[Firing]) -> SignaturePolicy | None:
    if not firings:
        return None
    requirements = tuple(SignatureRequirement(f.params["count"], tuple(sorted(f.params["roles"])),
                                              f.params["meaning"], f.rule_id) for f in firings)
    strongest = min(requirements, key=lambda r: (-r.count, r.rule_id))
    roles = tuple(sorted({role for r in requirements for role in r.roles}))
    return SignaturePolicy(strongest.count, roles, strongest.meaning, requirements)
