"""plan_trigger: everything a trigger would post, or every reason it must not — never a mix (§4.3).

The plan is computed from plain facts the posting service gathers under its locks; it writes nothing,
so `previewTrigger` and `postTrigger` share it. Requests that make no sense raise `InvalidTrigger`;
a trigger that makes sense but cannot be posted yet comes back as block reasons.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, localcontext
from fractions import Fraction

from backflush.core.allocation import (
    Binding,
    Draw,
    Eligibility,
    LineAllocation,
    Standing,
    Taken,
    allocate_line,
    eligible_quantity,
    standing,
    standing_totals,
    with_draws,
)
from backflush.core.error_codes import ErrorCode
from backflush.core.quantity import CONTEXT, HUNDRED, ZERO
from backflush.core.usage import (
    BACKFLUSH,
    Bom,
    Conversion,
    FlushLine,
    LineUsage,
    PriorPosting,
    coerce_decimals,
    explode,
    line_usage,
)
from backflush.core.vocabulary import TriggerKind

# Invalid requests (user errors, nothing is stored as a trigger outcome).
QUANTITY_NEGATIVE = ErrorCode.QUANTITY_NEGATIVE  # the code the API has always answered for a negative quantity
WRONG_OPERATION = ErrorCode.WRONG_OPERATION
OVER_PRODUCTION = ErrorCode.OVER_PRODUCTION

# Block reasons (the trigger is stored as BLOCKED with all of them).
INSUFFICIENT_STAGED_STOCK = ErrorCode.INSUFFICIENT_STAGED_STOCK
BIN_MISMATCH = ErrorCode.BIN_MISMATCH
LOT_EXPIRED = ErrorCode.LOT_EXPIRED
LOT_NOT_RELEASED = ErrorCode.LOT_NOT_RELEASED
SERIAL_SCAN_REQUIRED = ErrorCode.SERIAL_SCAN_REQUIRED
NOT_SERIALIZED = ErrorCode.NOT_SERIALIZED
TOO_MANY_SERIALS = ErrorCode.TOO_MANY_SERIALS
CLOCK_SKEW = ErrorCode.CLOCK_SKEW

# SPEC §6's shipped default: a device clock further off than this blocks. The one owner of the number;
# when an approved BLOCKING rule set is in force, its rules own the limit instead (docs/controls.md).
CLOCK_SKEW_LIMIT_SECONDS = Decimal(120)


class InvalidTrigger(Exception):
    """A request the work order cannot accept at all; `field` is the input path, as in userErrors."""

    def __init__(self, code: str, message: str, field: list[str] | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class SerialScan:
    line_no: int
    serial: str


@dataclass(frozen=True)
class TriggerRequest:
    """One production report, parsed once where it enters the domain (`backflush.trigger_eval.parse_trigger`)
    or read back from its stored row: the planner, the rules' `trigger` fact and the idempotency hash
    all read this one value."""

    good: Decimal
    scrap: Decimal = ZERO
    operation_seq: int | None = None  # None: the last operation
    serials: tuple[SerialScan, ...] = ()
    key: str = ""  # the client's idempotency key
    work_order_id: Hashable = None
    kind: TriggerKind = TriggerKind.GOOD_UNITS_DECLARED
    device_id: str | None = None
    device_timestamp: datetime | None = None  # aware (UTC)
    handling_unit: str | None = None

    def __post_init__(self) -> None:
        coerce_decimals(self, "good", "scrap")


@dataclass(frozen=True)
class OperationTotals:
    """Σ good and scrap of the POSTED, non-reversed triggers at one operation."""

    good: Decimal = ZERO
    scrap: Decimal = ZERO

    def __post_init__(self) -> None:
        coerce_decimals(self, "good", "scrap")


@dataclass(frozen=True)
class WorkOrderFacts:
    planned_quantity: Decimal
    operation_seqs: tuple[int, ...]
    wip_location_id: Hashable
    tolerance_percent: Decimal = ZERO
    input_locations: Mapping[int, Hashable] = field(default_factory=dict)  # op seq → input location
    posted_by_operation: Mapping[int, OperationTotals] = field(default_factory=dict)
    prior_postings: tuple[PriorPosting, ...] = ()

    def __post_init__(self) -> None:
        coerce_decimals(self, "planned_quantity", "tolerance_percent")


@dataclass(frozen=True)
class BlockReason:
    """Why a trigger must not post: the planner's own checks and QA's BLOCKING rules both say it with this."""

    code: str
    message: str
    component_code: str | None = None
    required: Decimal | None = None
    eligible: Decimal | None = None
    line_no: int | None = None
    uom: str | None = None
    rule_id: str | None = None  # the BLOCKING rule that fired, when a rule set decided
    facts: tuple[str, ...] = ()  # the facts it matched, e.g. "trigger[0]"


@dataclass(frozen=True)
class TriggerFacts:
    trigger: TriggerRequest
    work_order: WorkOrderFacts
    bom: Bom  # the effective BOM the work order was released with
    posted_at: datetime  # server time of the posting; expiry is judged on its date
    bindings: tuple[Binding, ...] = ()  # this work order's staged bindings, all locations and statuses
    conversions: tuple[Conversion, ...] = ()
    phantom_boms: Mapping[str, Bom] = field(default_factory=dict)
    excluded_binding_ids: frozenset[Hashable] = frozenset()  # staged bindings the ELIGIBILITY rule set excluded
    clock_skew_seconds: Decimal | None = None  # device time − server time at receipt; None when not reported
    clock_skew_limit_seconds: Decimal | None = CLOCK_SKEW_LIMIT_SECONDS  # None: the BLOCKING rules judge the clock

    def __post_init__(self) -> None:
        coerce_decimals(self, "clock_skew_seconds", "clock_skew_limit_seconds")


@dataclass(frozen=True)
class Requirement:
    """One line's need as the BLOCKING rule set sees it (fact `requirement`)."""

    line_no: int
    component_code: str
    posting_method: str
    required: Decimal
    eligible: Decimal
    serialized: bool
    serial_count: int
    uom: str
    operation_seq: int


@dataclass(frozen=True)
class TriggerPlan:
    operation_seq: int
    units: Decimal  # units_k: cumulative good + scrap at the operation, this trigger included
    draws: tuple[Draw, ...]
    block_reasons: tuple[BlockReason, ...]
    requirements: tuple[Requirement, ...]

    @property
    def blocked(self) -> bool:
        return bool(self.block_reasons)


BlockingPolicy = Callable[[tuple[Requirement, ...]], Iterable[BlockReason]]


@dataclass(frozen=True)
class _LineOutcome:
    draws: tuple[Draw, ...]
    reasons: tuple[BlockReason, ...]
    requirement: Requirement


def plan_trigger(facts: TriggerFacts, *, blocking_policy: BlockingPolicy | None = None) -> TriggerPlan:
    """Draws for every BACKFLUSH line consumed at the trigger's operation, or every block reason."""
    with localcontext(CONTEXT):
        operation_seq = validate_trigger(facts)
        units = units_at(facts, operation_seq)
        rules = _eligibility(facts, operation_seq)
        taken: dict[Hashable, Decimal] = {}
        draws: list[Draw] = []
        reasons: list[BlockReason] = []
        requirements: list[Requirement] = []
        for line in lines_consumed_at(facts, operation_seq):
            outcome = _plan_line(line, facts, operation_seq=operation_seq, units=units, rules=rules, taken=taken)
            draws += outcome.draws
            reasons += outcome.reasons
            requirements.append(outcome.requirement)
            taken = with_draws(taken, outcome.draws)
        validate_serial_scans(facts.trigger.serials, requirements)
        reasons += trigger_reasons(facts)
        if blocking_policy is not None:
            reasons += blocking_policy(tuple(requirements))
        return TriggerPlan(operation_seq, units, () if reasons else tuple(draws), tuple(reasons), tuple(requirements))


def validate_trigger(facts: TriggerFacts) -> int:
    """The operation the trigger reports on; raises InvalidTrigger for requests to refuse outright."""
    trigger, order = facts.trigger, facts.work_order
    for name, value in (("goodQuantity", trigger.good), ("scrapQuantity", trigger.scrap)):
        if value < 0:
            raise InvalidTrigger(QUANTITY_NEGATIVE, f"{name} must not be negative", ["input", name])
    seq = trigger.operation_seq if trigger.operation_seq is not None else max(order.operation_seqs, default=None)
    if seq is None or seq not in order.operation_seqs:
        raise InvalidTrigger(WRONG_OPERATION, f"operation {seq} is not on this work order", ["input", "operationSeq"])
    limit = order.planned_quantity * (1 + order.tolerance_percent / HUNDRED)
    good = order.posted_by_operation.get(seq, OperationTotals()).good + trigger.good
    if good > limit:
        raise InvalidTrigger(OVER_PRODUCTION, f"cumulative good {good} at operation {seq} exceeds {limit}",
                             ["input", "goodQuantity"])
    return seq


def validate_serial_scans(scans: tuple[SerialScan, ...], requirements: list[Requirement]) -> None:
    """Scans only for lines of serialized components consumed here, at most one per unit posted."""
    by_line = {r.line_no: r for r in requirements}
    counts = Counter(scan.line_no for scan in scans)
    for line_no, count in sorted(counts.items()):
        requirement = by_line.get(line_no)
        if requirement is None or not requirement.serialized:
            raise InvalidTrigger(NOT_SERIALIZED, f"line {line_no} consumes no serialized component at this operation",
                                 ["input", "serials"])
        if count > requirement.required:
            raise InvalidTrigger(TOO_MANY_SERIALS, f"{count} serials for line {line_no}, which posts "
                                                   f"{requirement.required} {requirement.uom}", ["input", "serials"])


def units_at(facts: TriggerFacts, operation_seq: int) -> Decimal:
    done = facts.work_order.posted_by_operation.get(operation_seq, OperationTotals())
    return done.good + done.scrap + facts.trigger.good + facts.trigger.scrap


def lines_consumed_at(facts: TriggerFacts, operation_seq: int) -> tuple[FlushLine, ...]:
    last = max(facts.work_order.operation_seqs)
    lines = explode(facts.bom, phantom_boms=facts.phantom_boms, conversions=facts.conversions)
    return tuple(replace(line, operation_seq=operation_seq) for line in lines
                 if (line.operation_seq if line.operation_seq is not None else last) == operation_seq)


def _eligibility(facts: TriggerFacts, operation_seq: int) -> Eligibility:
    order = facts.work_order

    def excluded(binding: Binding) -> bool:
        return binding.binding_id in facts.excluded_binding_ids

    return Eligibility(location_id=order.input_locations.get(operation_seq, order.wip_location_id),
                       posted_on=facts.posted_at.date(), excluded=excluded)


def _plan_line(line: FlushLine, facts: TriggerFacts, *, operation_seq: int, units: Decimal, rules: Eligibility,
               taken: Taken) -> _LineOutcome:
    usage = line_usage(line, units=units, prior=facts.work_order.prior_postings, conversions=facts.conversions,
                       in_line_uom=uses_lot_factors(line, facts))
    serial_count = matched_serial_count(line, facts, rules=rules)
    if line.posting_method != BACKFLUSH:
        eligible = eligible_quantity(usage, bindings=facts.bindings, rules=rules, taken=taken,
                                     conversions=facts.conversions)
        return _LineOutcome((), (), _requirement(usage, operation_seq, eligible=eligible, serial_count=serial_count))
    allocation = allocate_line(usage, bindings=facts.bindings, rules=rules, taken=taken, conversions=facts.conversions)
    reasons = [] if allocation.covered else shortage_reasons(usage, allocation, facts=facts, rules=rules, taken=taken)
    if line.component.serialized and serial_count < usage.to_post:
        reasons.append(BlockReason(
            SERIAL_SCAN_REQUIRED, f"line {line.line_no}: {usage.to_post} units of {line.component.code} "
            f"need as many serial scans, {serial_count} match", line.component.code, usage.to_post, None,
            line.line_no, usage.uom))
    return _LineOutcome(allocation.draws, tuple(reasons),
                        _requirement(usage, operation_seq, eligible=allocation.eligible,
                                     serial_count=serial_count))


def _requirement(usage: LineUsage, operation_seq: int, *, eligible: Decimal, serial_count: int) -> Requirement:
    line = usage.line
    return Requirement(line.line_no, line.component.code, line.posting_method, usage.to_post, eligible,
                       line.component.serialized, serial_count, usage.uom, operation_seq)


def uses_lot_factors(line: FlushLine, facts: TriggerFacts) -> bool:
    """Track the line in its own uom when lots carry their own factor (or once did for this line)."""
    component = line.component
    if line.uom == component.base_uom:
        return False
    pair = {line.uom, component.base_uom}
    if any(b.item_code == component.code and any({f.from_uom, f.to_uom} == pair for f in b.lot_factors)
           for b in facts.bindings):
        return True
    return any(p.line_no == line.line_no and p.component_code == component.code and p.substitutes_for is None
               and p.line_quantity is not None for p in facts.work_order.prior_postings)


def matched_serial_count(line: FlushLine, facts: TriggerFacts, *, rules: Eligibility) -> int:
    """Distinct scans for the line that belong to its eligible staged lots (any, if none list serials)."""
    scans = {scan.serial for scan in facts.trigger.serials if scan.line_no == line.line_no}
    known = frozenset().union(*(b.serials for b in facts.bindings
                                if b.item_code == line.component.code and standing(b, rules) is Standing.ELIGIBLE))
    return len(scans & known) if known else len(scans)


def shortage_reasons(usage: LineUsage, allocation: LineAllocation, *, facts: TriggerFacts, rules: Eligibility,
                     taken: Taken) -> list[BlockReason]:
    """Name the most useful cause of a shortage: wrong bin, stale lots only, or simply not enough."""
    totals = standing_totals(usage, bindings=facts.bindings, rules=rules, taken=taken, conversions=facts.conversions)
    line, required, eligible = usage.line, usage.to_post, allocation.eligible

    def reason(code: str, why: str) -> BlockReason:
        return BlockReason(code, f"line {line.line_no}: {line.component.code} {why}", line.component.code,
                           required, eligible, line.line_no, usage.uom)

    if Fraction(eligible) + totals[Standing.OTHER_LOCATION] >= required:
        return [reason(BIN_MISMATCH, f"is staged to this order but not at location {rules.location_id}")]
    stale = [(code, why) for code, kind, why in (
        (LOT_NOT_RELEASED, Standing.NOT_RELEASED, "is staged only from lots that are not released"),
        (LOT_EXPIRED, Standing.EXPIRED, "is staged only from expired lots")) if totals[kind] > 0]
    if eligible == 0 and stale and totals[Standing.OTHER_LOCATION] == 0 and totals[Standing.EXCLUDED] == 0:
        return [reason(code, why) for code, why in stale]
    return [reason(INSUFFICIENT_STAGED_STOCK, f"needs {required} {usage.uom}, {eligible} eligible is staged")]


def trigger_reasons(facts: TriggerFacts) -> list[BlockReason]:
    skew, limit = facts.clock_skew_seconds, facts.clock_skew_limit_seconds
    if skew is not None and limit is not None and abs(skew) > limit:
        return [BlockReason(CLOCK_SKEW, f"device clock is {skew} s off server time (limit {limit} s)")]
    return []
