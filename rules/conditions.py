"""Rule conditions (``when``): the closed operator list, checks against the vocabulary, and the
single-key form durable-rules needs.

durable-rules reads only ONE key of a condition object — ``{"$gt": {"a": 1}, "$lt": {"a": 5}}`` tests
just one of them — and an unknown operator such as ``$ne`` may compile silently into an equality on
a field named "$ne". So documents are checked against this closed list before any compilation, and
``normalize`` rewrites every multi-key object into an explicit ``$and``.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from rules.patterns import PatternError, compile_pattern
from rules.vocabulary import (
    BOOLEAN,
    DATE,
    NUMERIC_TYPES,
    ORDERED_TYPES,
    STRING_LIST,
    TEXT_TYPES,
    Field,
)

LOGICAL = ("$and", "$or")
ORDERING = ("$gt", "$gte", "$lt", "$lte")
PATTERN = ("$mt", "$imt")
PRESENCE = ("$ex", "$nex")
ITEMS = ("$iall", "$iany")
FIELD_OPERATORS = ORDERING + ("$neq",) + PATTERN + PRESENCE + ITEMS
OPERATORS = LOGICAL + FIELD_OPERATORS
ITEM = "$i"  # the list element inside $iall / $iany
# operators of other dialects (MongoDB, durable's Python DSL) QA are likely to try
_FOREIGN = {"$ne": "$neq", "$eq": "plain equality {field: value}", "$in": "$or of equalities",
            "$nin": "$and of $neq", "$regex": "$mt", "$exists": "$ex or $nex", "$not": "$neq or $nex"}
# durable-rules cannot parse exponent notation, which Python prints outside this range
_MIN_NUMBER, _MAX_NUMBER = 1e-4, 1e15


def check(condition: object, fields: Mapping[str, Field], path: str = "when") -> list[str]:
    """Every problem with ``condition`` over ``fields``; an empty top-level condition matches all."""
    if not isinstance(condition, dict):
        return [f"{path} must be a mapping of conditions, got {_shown(condition)}"]
    errors: list[str] = []
    for key, value in condition.items():
        where = f"{path}.{key}"
        if not isinstance(key, str):
            errors.append(f"{path}: {_shown(key)} is not a field name or operator")
        elif key in LOGICAL:
            errors += _check_logical(value, fields, where)
        elif key in FIELD_OPERATORS:
            errors += _check_operator(key, value, fields, where)
        elif key.startswith("$") and key not in fields:
            hint = f" (did you mean {_FOREIGN[key]}?)" if key in _FOREIGN else _suggest(key, OPERATORS)
            errors.append(f"{where}: unknown operator '{key}'{hint}; "
                          f"operators are {', '.join(OPERATORS)} and plain equality")
        else:
            errors += _check_operand("==", key, value, fields, path)
    return errors


def normalize(condition: Mapping[str, Any]) -> dict[str, Any] | None:
    """Single-key form for durable-rules; ``None`` for the empty (match-all) condition."""
    parts = [part for key, value in condition.items() for part in _split(key, value)]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _split(key: str, value: Any) -> list[dict[str, Any]]:  # value: checked by check() already
    if key in LOGICAL:
        return [{key: [normalize(item) for item in value]}]
    if key in ITEMS:
        return [{key: {field: normalize(inner)}} for field, inner in value.items()]
    if key in PRESENCE:
        return [{key: {field: 1}} for field in value]
    if key in FIELD_OPERATORS:
        return [{key: {field: operand}} for field, operand in value.items()]
    return [{key: value}]


def _check_logical(value: object, fields: Mapping[str, Field], where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"{where} must be a non-empty list of conditions"]
    errors = []
    for i, item in enumerate(value):
        if item == {}:
            errors.append(f"{where}[{i}] is empty")
        else:
            errors += check(item, fields, f"{where}[{i}]")
    return errors


def _check_operator(op: str, value: object, fields: Mapping[str, Field], where: str) -> list[str]:
    if not isinstance(value, dict) or not value:
        return [f"{where} must map field names to operands, e.g. {{{op}: {{field: value}}}}"]
    errors = []
    for name, operand in value.items():
        if op in ITEMS and name in fields and fields[name].type == STRING_LIST:
            errors += _check_items(operand, fields[name], f"{where}.{name}")
        else:
            errors += _check_operand(op, name, operand, fields, where)
    return errors


def _check_items(inner: object, field: Field, where: str) -> list[str]:
    if not isinstance(inner, dict) or not inner:
        return [f"{where} must be a condition on each item, {ITEM}, e.g. {{{ITEM}: QA}}"]
    element_type = field.element_type
    assert element_type is not None  # only list fields get here
    return check(inner, {ITEM: Field(ITEM, element_type, "", "list item")}, where)


def _check_operand(op: str, name: object, operand: object, fields: Mapping[str, Field],
                   where: str) -> list[str]:
    field = fields.get(name) if isinstance(name, str) else None
    if field is None:
        known = ", ".join(sorted(fields))
        return [f"{where}: unknown field {_shown(name)}{_suggest(name, fields)}; fields are {known}"]
    if op in PRESENCE:
        return []
    problem = _operand_problem(op, field, operand)
    return [f"{where}.{name}: {problem}"] if problem else []


def _operand_problem(op: str, field: Field, operand: object) -> str | None:
    if operand is None:
        return "null never matches: facts leave unknown fields out, test that with $nex"
    if op in ITEMS:
        return f"{op} needs a list field; {field.name} is {field.type}"
    if field.type == STRING_LIST:
        return f"{field.name} is a list: use $iany/$iall, e.g. {{$iany: {{{field.name}: {{$i: X}}}}}}"
    if op in ORDERING and field.type not in ORDERED_TYPES:
        return f"{op} compares numbers or dates; {field.name} is {field.type}"
    if op in PATTERN:
        return _pattern_problem(op, field, operand)
    return _literal_problem(field, operand)


def _pattern_problem(op: str, field: Field, operand: object) -> str | None:
    if field.type not in TEXT_TYPES:
        return f"{op} matches text; {field.name} is {field.type}"
    if not isinstance(operand, str) or not operand:
        return f"{op} needs a non-empty pattern text"
    try:
        compile_pattern(operand, op == "$imt")
    except PatternError as error:
        return str(error)
    return None


def _literal_problem(field: Field, operand: object) -> str | None:
    if field.type in NUMERIC_TYPES:
        return _number_problem(operand)
    if field.type == BOOLEAN:
        return None if isinstance(operand, bool) else f"expected true or false, got {_shown(operand)}"
    if not isinstance(operand, str):
        return f"expected text, got {_shown(operand)}"
    if field.type == DATE and not _is_iso_date(operand):
        return f"expected an ISO date (YYYY-MM-DD), got {operand!r}"
    if field.choices and operand not in field.choices:
        return f"{operand!r} is not one of {', '.join(field.choices)}{_suggest(operand, field.choices)}"
    return None


def _number_problem(operand: object) -> str | None:
    if isinstance(operand, bool) or not isinstance(operand, (int, float)):
        return f"expected a number, got {_shown(operand)}"
    size = abs(operand)
    if operand != 0 and (math.isnan(size) or not _MIN_NUMBER <= size < _MAX_NUMBER):
        return "numbers in rules must be 0 or between 0.0001 and 10^15 in size " \
               "(durable-rules cannot read exponent notation)"
    return None


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _suggest(word: object, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _shown(value: object) -> str:
    return repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
