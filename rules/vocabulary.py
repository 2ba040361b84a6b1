"""The fact vocabulary QA rules are written against (SPEC §6).

Everything a rule may name — fact types, their fields, the rule-set kinds and the actions each kind
may take — is declared here once; document checking, fact building and docs/rules.md all read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backflush.core.vocabulary import LocationKind, LotStatus, PostingMethod, TriggerKind

STRING = "string"
NUMBER = "number"
INTEGER = "integer"
BOOLEAN = "boolean"
DATE = "date"
STRING_LIST = "list[string]"

NUMERIC_TYPES = (NUMBER, INTEGER)
ORDERED_TYPES = (NUMBER, INTEGER, DATE)  # ISO dates order correctly as text
TEXT_TYPES = (STRING, DATE)

TRIGGER_KINDS = tuple(TriggerKind)
LOT_STATUSES = tuple(LotStatus)
LOCATION_KINDS = tuple(LocationKind)
POSTING_METHODS = tuple(PostingMethod)
PRINCIPAL_KINDS = ("USER", "CLIENT")
ROLES = ("OPERATOR", "SUPERVISOR", "QA", "ENGINEER", "FINANCE", "ADMIN", "PARTNER")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
CODE_PATTERN = r"[A-Z][A-Z0-9_]*"  # stable reason codes, as the API exposes them


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    example: object
    doc: str
    choices: tuple[str, ...] = ()

    @property
    def element_type(self) -> str | None:
        return STRING if self.type == STRING_LIST else None


@dataclass(frozen=True)
class FactType:
    name: str
    doc: str
    fields: dict[str, Field]


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    doc: str
    choices: tuple[str, ...] = ()
    pattern: str | None = None


@dataclass(frozen=True)
class Action:
    name: str
    doc: str
    params: tuple[Param, ...]


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    facts: tuple[str, ...]
    actions: tuple[str, ...]


def _fact_type(name: str, doc: str, *fields: tuple[Any, ...]) -> FactType:
    return FactType(name, doc, {f[0]: Field(*f) for f in fields})


_WO = ("work_order_number", STRING, "WO-1001", "Work order number")
_ITEM = ("item_code", STRING, "FG-100", "Item code of the work order's product")

FACT_TYPES: dict[str, FactType] = {t.name: t for t in (
    _fact_type(
        "trigger", "The production report being posted (one per BLOCKING decision).",
        _WO, _ITEM,
        ("kind", STRING, "OPERATION_COMPLETE", "Trigger kind", TRIGGER_KINDS),
        ("operation_seq", INTEGER, 20, "Operation the trigger reports"),
        ("is_last_operation", BOOLEAN, True, "True when operation_seq is the routing's last operation"),
        ("work_center", STRING, "MIX-01", "Work center of the operation"),
        ("good_quantity", NUMBER, 100, "Good parent units reported"),
        ("scrap_quantity", NUMBER, 2, "Scrapped parent units reported"),
        ("planned_quantity", NUMBER, 500, "Work order planned quantity"),
        ("cumulative_good_quantity", NUMBER, 300, "Good units at this operation, this trigger included"),
        ("previous_operation_good", NUMBER, 310,
         "Good units posted at the previous operation of the routing (absent at the first operation)"),
        ("good_ahead_of_previous_operation", NUMBER, -10,
         "cumulative_good_quantity − previous_operation_good − the order's over-production allowance "
         "(planned × tolerance %); above 0 the operation runs ahead (absent at the first operation)"),
        ("device_id", STRING, "LINE3-HMI", "Reporting device"),
        ("clock_skew_seconds", NUMBER, 4, "Device timestamp minus server time, in seconds"),
        ("handling_unit", STRING, "HU-000123", "Handling unit, when the trigger closes one"),
        ("principal_kind", STRING, "USER", "Who reported: a user or an OAuth client", PRINCIPAL_KINDS),
        ("site_code", STRING, "PLANT-1", "Site of the work order"),
    ),
    _fact_type(
        "requirement", "One BOM line this trigger consumes (one fact per line).",
        ("line_no", INTEGER, 10, "BOM line number"),
        ("component_code", STRING, "RM-200", "Component item code"),
        ("posting_method", STRING, "BACKFLUSH", "How the line is issued", POSTING_METHODS),
        ("operation_seq", INTEGER, 20, "Operation that consumes the line"),
        ("required", NUMBER, 0.5202, "Quantity this trigger must post, in the component's base UOM"),
        ("eligible", NUMBER, 10, "Eligible staged quantity now, in the component's base UOM"),
        ("shortfall", NUMBER, 0, "required − eligible when positive, else 0"),
        ("uom", STRING, "kg", "Component base UOM"),
        ("lot_controlled", BOOLEAN, True, "Component is lot controlled"),
        ("serialized", BOOLEAN, False, "Component is serialized"),
        ("serial_count", INTEGER, 0, "Serial scans supplied for the line"),
    ),
    _fact_type(
        "candidate_lot", "One staged binding that could be drawn (one fact per binding).",
        ("candidate_id", STRING, "B-42", "Staging binding id; exclusions are keyed by it"),
        ("lot_number", STRING, "L2405-01", "Lot number"),
        ("item_code", STRING, "RM-200", "Component item code"),
        ("status", STRING, "RELEASED", "Lot status", LOT_STATUSES),
        ("expires_on", DATE, "2026-03-31", "Expiry date (absent when the lot never expires)"),
        ("days_to_expiry", INTEGER, 45, "Days from the posting's server date to expiry; < 0 is expired"),
        ("received_on", DATE, "2025-11-02", "Receipt date"),
        ("days_since_received", INTEGER, 12, "Days since receipt"),
        ("supplier", STRING, "ACME", "Supplier code"),
        ("potency", NUMBER, 0.98, "Measured potency, when the lot has one"),
        ("location_kind", STRING, "WIP", "Kind of the bin holding the staged quantity", LOCATION_KINDS),
        ("location_code", STRING, "WIP-3", "Bin holding the staged quantity"),
        ("staged_quantity", NUMBER, 12.5, "Remaining bound quantity, in base UOM"),
    ),
    _fact_type(
        "blocked_flush", "A trigger that was blocked (DEVIATION decisions).",
        _WO, _ITEM,
        ("trigger_kind", STRING, "OPERATION_COMPLETE", "Kind of the blocked trigger", TRIGGER_KINDS),
        ("operation_seq", INTEGER, 20, "Operation of the blocked trigger"),
        ("reason_codes", STRING_LIST, ["INSUFFICIENT_STAGED_STOCK"], "Every block reason code"),
        ("reason_count", INTEGER, 1, "Number of block reasons"),
        ("device_id", STRING, "LINE3-HMI", "Reporting device"),
    ),
    _fact_type(
        "close_variance", "One ComponentVariance row booked at close (DEVIATION decisions).",
        _WO, _ITEM,
        ("component_code", STRING, "RM-200", "Component item code"),
        ("is_alternate", BOOLEAN, False, "Row of an alternate component"),
        ("uom", STRING, "kg", "Component base UOM"),
        ("standard_quantity", NUMBER, 9.69, "Standard quantity"),
        ("actual_quantity", NUMBER, 10.0, "Net issued quantity"),
        ("usage_variance", NUMBER, 0.31, "actual − standard"),
        ("variance_percent", NUMBER, 3.2, "usage ÷ standard × 100 (absent when standard is 0)"),
        ("variance_value", NUMBER, 1.55, "usage variance × standard cost"),
    ),
    _fact_type(
        "control_signal", "The order being closed used a component outside its control limits "
        "(mean ± 3σ of usage per good unit over the previous closed orders of the product; DEVIATION decisions).",
        _WO, _ITEM,
        ("component_code", STRING, "RM-200", "Component item code"),
        ("usage_per_unit", NUMBER, 1.25, "Net issued quantity per good unit, in the component's base UOM"),
        ("mean", NUMBER, 1.05, "Mean usage per unit of the reference orders"),
        ("sigma", NUMBER, 0.05, "Population standard deviation of the reference orders"),
        ("lower_limit", NUMBER, 0.9, "mean − 3σ"),
        ("upper_limit", NUMBER, 1.2, "mean + 3σ"),
        ("sample_size", INTEGER, 20, "How many earlier closed orders the limits come from"),
        ("direction", STRING, "ABOVE", "Which limit was crossed", ("ABOVE", "BELOW")),
    ),
    _fact_type(
        "reversal", "A requested reversal of a posted trigger.",
        _WO, _ITEM,
        ("trigger_kind", STRING, "OPERATION_COMPLETE", "Kind of the reversed trigger", TRIGGER_KINDS),
        ("operation_seq", INTEGER, 20, "Operation of the reversed trigger"),
        ("is_last_operation", BOOLEAN, True, "The reversed trigger received output"),
        ("value", NUMBER, 1250.0, "Standard-cost value of what is reversed"),
        ("quantity", NUMBER, 100, "Good + scrap parent units reversed"),
        ("output_lot_status", STRING, "RELEASED", "Status of the output lot", LOT_STATUSES),
        ("age_hours", NUMBER, 6.5, "Hours since the trigger was posted"),
        ("reason_code", STRING, "WRONG_ORDER", "Reversal reason code"),
        ("requester_roles", STRING_LIST, ["SUPERVISOR"], "Roles of the requesting principal"),
    ),
)}

_CODE = Param("code", STRING, "Stable reason code", pattern=CODE_PATTERN)
_MESSAGE = Param("message", STRING, "Text shown to the operator")

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("exclude", "Remove the matched candidate lot from eligible stock.", (_CODE, _MESSAGE)),
    Action("block", "Block the trigger; nothing is posted.", (_CODE, _MESSAGE)),
    Action("open_deviation", "Open (or attach to) a deviation.", (
        Param("category", STRING, "Deviation category", pattern=CODE_PATTERN),
        Param("severity", STRING, "Deviation severity", SEVERITIES),
    )),
    Action("require_signatures", "Require e-signatures before the reversal executes.", (
        Param("count", INTEGER, "Distinct signers holding one of the roles (≥ 1)"),
        Param("roles", STRING_LIST, "Roles that may sign", ROLES),
        Param("meaning", STRING, "Meaning stated by each signer, e.g. 'Reversal approved'"),
    )),
)}

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("ELIGIBILITY", "Which staged lots a backflush may draw.", ("candidate_lot",), ("exclude",)),
    Kind("BLOCKING", "Whether a trigger may post at all.", ("trigger", "requirement"), ("block",)),
    Kind("DEVIATION", "Which events open deviations.",
         ("blocked_flush", "close_variance", "control_signal", "reversal"), ("open_deviation",)),
    Kind("REVERSAL_SIGNATURE", "Who must sign a reversal.", ("reversal",), ("require_signatures",)),
)}

# Fields the engine adapter adds to every fact; the vocabulary must never use them.
RESERVED_FIELDS = frozenset({"fact", "sid", "id", "_ref"})
