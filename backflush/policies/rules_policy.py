"""The FlushPolicy backed by QA's active rule sets: eligibility, blocking and deviations as data.

Each approved version is loaded once per process (durable compiles it on first use); which version
is active is read from the database for every command, so a newly approved version takes effect
on the next request in every server process without a restart.
"""
from __future__ import annotations

import threading
import time
import weakref
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

import rules
from backflush.core.plan import BlockReason
from backflush.policies.policy import BuiltinPolicy, DecisionRecord, FlushVerdict
from backflush.reads.rule_sets import VersionInForce, versions_in_force_by_kind
from kernel.audit import canonical, sha256
from kernel.database import referenced_row
from kernel.instruments import RULE_DECISION_SECONDS
from models import Location, Lot, RuleSet, WorkOrder
from rules.decision import DeviationRequest
from rules.facts import to_wire

_loaded: dict[tuple, rules.RuleSet] = {}
_loading = threading.Lock()
# engine → {(id, version, kind): its loaded rule set}: what a trigger's versions in force find without
# reading or hashing their documents. Per engine, as the documents' hashes are per database.
_in_force: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def loaded(row: RuleSet) -> rules.RuleSet:
    """One loaded (and, on first use, compiled) rule set per approved document in this process.

    Keyed by the document's hash as well as its row: a process that talks to several databases
    (tests, a migration run) must never evaluate one database's version 1 with another's rules.
    """
    digest = sha256(canonical(row.document))[:16]
    key = (row.id, row.version, row.kind, digest)
    with _loading:
        if key not in _loaded:
            _loaded[key] = rules.load_ruleset(row.document, ruleset_id=f"{row.id}-{digest}", version=row.version,
                                              kind=row.kind)
        return _loaded[key]


def loaded_in_force(session: Session, version: VersionInForce) -> rules.RuleSet:
    """The rule set of a version in force; its document is read the first time this process meets the
    version in this database, never again (an approved version is never edited)."""
    engine, key = session.get_bind(), (version.id, version.version, version.kind)
    with _loading:
        found = _in_force.get(engine, {}).get(key)
    if found is None:
        found = loaded(referenced_row(session, RuleSet, version.id))
        with _loading:
            _in_force.setdefault(engine, {})[key] = found
    return found


def decide(session: Session, version: VersionInForce, facts: dict, verdict: FlushVerdict | None) -> rules.Decision:
    """Evaluate `facts` with a version in force and remember the decision for the record."""
    decision = _timed(loaded_in_force(session, version), facts)
    if verdict is not None:
        verdict.decisions.append(record_of(version, decision))
    return decision


def evaluate_version(row: RuleSet, facts: dict) -> rules.Decision:
    """One evaluation of an approved version."""
    return _timed(loaded(row), facts)


def _timed(ruleset: rules.RuleSet, facts: dict) -> rules.Decision:
    """Timed for backflush_rule_decision_duration_seconds."""
    started = time.perf_counter()
    decision = rules.evaluate(ruleset, facts)
    RULE_DECISION_SECONDS.labels(kind=ruleset.kind, engine=decision.engine).observe(time.perf_counter() - started)
    return decision


def record_of(row: RuleSet | VersionInForce, decision: rules.Decision) -> DecisionRecord:
    built = to_wire(decision.facts)
    return DecisionRecord(rule_set_id=row.id, version=row.version, engine=decision.engine,
                          fired=[{"rule_id": f.rule_id, "action": f.action, "params": f.params, "facts": list(f.facts)}
                                 for f in decision.fired],
                          input_hash=decision.input_hash, facts=built)


class RulesFlushPolicy:
    """Bound to one command: `prepare` reads which versions are in force for the order's site.

    A kind with no version in force (every shipped default withdrawn) falls back to the built-in
    defaults rather than to no policy at all.
    """

    def __init__(self):
        self.session: Session | None = None
        self.active: dict[str, VersionInForce | None] = {}
        self.builtin = BuiltinPolicy()

    @property
    def clock_skew_limit(self) -> Decimal | None:
        # the BLOCKING rule set owns the clock-skew limit when one is in force
        return None if self.active.get("BLOCKING") is not None else self.builtin.clock_skew_limit

    def prepare(self, session: Session, *, work_order: WorkOrder, at: datetime) -> None:
        self.session, self.work_order, self.at = session, work_order, at
        self.active = versions_in_force_by_kind(session, kinds=("ELIGIBILITY", "BLOCKING", "DEVIATION"),
                                                site_id=work_order.site_id, at=at)

    def excluded_bindings(self, bindings, *, verdict: FlushVerdict) -> set:
        """Binding ids: each candidate_lot fact is one staged binding, keyed by `candidate_id`."""
        rule_set = self.active.get("ELIGIBILITY")
        if rule_set is None or not bindings:
            return set()
        decision = decide(self._session(), rule_set, {"candidate_lot": self._candidates(bindings)}, verdict)
        return {int(key) for key in decision.excluded}

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("the policy was not prepared for this command")
        return self.session

    def _candidates(self, bindings) -> list[dict]:
        session = self._session()
        # The order's facts loaded every binding's lot and location: identity-map hits, no query.
        lots = {i: referenced_row(session, Lot, i) for i in {b.lot_id for b in bindings}}
        places = {i: referenced_row(session, Location, i) for i in {b.location_id for b in bindings}}
        today = self.at.date()
        return [{"candidate_id": str(b.binding_id), "lot_number": b.lot_number, "item_code": b.item_code,
                 "status": b.status, "expires_on": b.expires_on,
                 "days_to_expiry": rules.days_to_expiry(b.expires_on, today=today),
                 "received_on": b.received_at.date() if b.received_at else None,
                 "days_since_received": rules.days_since(b.received_at.date(), today=today) if b.received_at else None,
                 "supplier": lots[b.lot_id].supplier, "potency": lots[b.lot_id].potency,
                 "location_kind": places[b.location_id].kind, "location_code": places[b.location_id].code,
                 "staged_quantity": b.remaining} for b in bindings]

    def block_reasons(self, trigger: dict, requirements, *, verdict: FlushVerdict) -> list[BlockReason]:
        rule_set = self.active.get("BLOCKING")
        if rule_set is None:
            return []
        facts = {"trigger": [trigger],
                 "requirement": [_requirement_fact(r) for r in requirements]}
        decision = decide(self._session(), rule_set, facts, verdict)
        return list(decision.block_reasons)

    def deviations_for_block(self, blocked_flush: dict, *, verdict: FlushVerdict) -> list[DeviationRequest]:
        rule_set = self.active.get("DEVIATION")
        if rule_set is None:
            return self.builtin.deviations_for_block(blocked_flush, verdict=verdict)
        decision = decide(self._session(), rule_set, {"blocked_flush": [blocked_flush]}, verdict)
        if not decision.deviations:
            return []
        first = decision.deviations[0]  # ordered by rule id: the same facts always open the same deviation
        return [DeviationRequest(category=first.category, severity=first.severity, reason_code=code)
                for code in blocked_flush["reason_codes"]]


def _requirement_fact(requirement) -> dict:
    shortfall = requirement.required - requirement.eligible
    return {"line_no": requirement.line_no, "component_code": requirement.component_code,
            "posting_method": requirement.posting_method, "operation_seq": requirement.operation_seq,
            "required": requirement.required, "eligible": requirement.eligible,
            "shortfall": shortfall if shortfall > 0 else 0, "uom": requirement.uom,
            "serialized": requirement.serialized, "serial_count": requirement.serial_count}
