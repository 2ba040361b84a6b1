"""Rule-set documents (SPEC §6): parsing JSON/YAML and checking them before anything compiles.

Every error names the rule (or the test) it is about, so QA can find it in a long document.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from backflush.core import digests
from rules import conditions
from rules.cases import TestCase, read_tests
from rules.errors import DocumentError, InvalidDocument
from rules.rule import Pattern, Rule
from rules.vocabulary import ACTIONS, FACT_TYPES, INTEGER, KINDS, STRING_LIST, Param

_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_ID_LINE = re.compile(r"""(?:^|[\s{,-])["']?id["']?\s*:\s*["']?([A-Za-z0-9][\w.-]*)""")
_TOP_KEYS = {"rules", "tests", "description"}
_RULE_KEYS = {"id", "description", "fact", "when", "when_all", "then"}
_MAX_JOIN = 8


@dataclass(frozen=True)
class RuleSetDocument:
    rules: tuple[Rule, ...]
    tests: tuple[TestCase, ...]
    source: dict[str, Any] = field(repr=False, compare=False)
    digest: str = ""


def read_document(source: str | bytes | Mapping[str, Any], kind: str | None = None) -> RuleSetDocument:
    """The checked document, or InvalidDocument listing every problem."""
    document, errors = check_document(source, kind)
    if errors or document is None:
        raise InvalidDocument(errors)
    return document


def check_document(source: str | bytes | Mapping[str, Any], kind: str | None = None
                   ) -> tuple[RuleSetDocument | None, list[DocumentError]]:
    try:
        raw = parse_source(source)
    except InvalidDocument as invalid:
        return None, list(invalid.errors)
    errors = [DocumentError(f"unknown top-level key '{k}'") for k in raw if k not in _TOP_KEYS]
    if kind is not None and kind not in KINDS:
        return None, errors + [DocumentError(f"unknown rule-set kind '{kind}'")]
    rules, rule_errors = _read_rules(raw.get("rules"), kind)
    broken = frozenset(e.rule_id for e in rule_errors if e.rule_id)  # their tests wait for a fix
    tests, test_errors = read_tests(raw.get("tests"), kind, {r.id: r for r in rules}, broken)
    errors += rule_errors + test_errors
    if errors:
        return None, errors
    return RuleSetDocument(tuple(rules), tuple(tests), source=raw, digest=_digest(raw)), []


def parse_source(source: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    raw: object
    if isinstance(source, Mapping):
        raw = dict(source)  # _dates_as_text copies every mapping and list below
    else:
        text = source.decode("utf-8") if isinstance(source, bytes) else source
        raw = _parse_json(text) if text.lstrip().startswith("{") else _parse_yaml(text)
    if not isinstance(raw, dict):
        raise InvalidDocument([DocumentError("a rule-set document is a mapping with 'rules' and 'tests'")])
    return {k: _dates_as_text(v) for k, v in raw.items()}


def _dates_as_text(value: object) -> object:
    """YAML reads 2026-03-31 as a date; facts and rules hold dates as ISO text."""
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _digest(raw: dict[str, Any]) -> str:
    return digests.sha256(digests.canonical_json(raw, plain=str, ensure_ascii=False))


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _syntax_error(text, error.lineno, error.msg) from None


def _parse_yaml(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise _syntax_error(text, line, getattr(error, "problem", None) or str(error)) from None


def _syntax_error(text: str, line: int, problem: str) -> InvalidDocument:
    before = "\n".join(text.splitlines()[:line])
    ids = _ID_LINE.findall(before)
    return InvalidDocument([DocumentError(f"syntax error at line {line}: {problem}",
                                          rule_id=ids[-1] if ids else None)])


# -- rules ----------------------------------------------------------------------------------

def _read_rules(raw: object, kind: str | None) -> tuple[list[Rule], list[DocumentError]]:
    if not isinstance(raw, list) or not raw:
        return [], [DocumentError("'rules' must be a non-empty list")]
    rules, errors, seen = [], [], set()
    for index, item in enumerate(raw):
        rule_id = item.get("id") if isinstance(item, dict) else None
        name = rule_id if isinstance(rule_id, str) and rule_id else f"rules[{index}]"
        problems = _rule_problems(item, kind) if isinstance(item, dict) else ["must be a mapping"]
        if name in seen:
            problems.append("duplicate rule id")
        seen.add(name)
        errors += [DocumentError(p, rule_id=name) for p in problems]
        if not problems:
            rules.append(_rule(item))
    return rules, errors


def _rule_problems(item: dict[str, Any], kind: str | None) -> list[str]:
    problems = [f"unknown key '{k}'" for k in item if k not in _RULE_KEYS]
    if not isinstance(item.get("id"), str) or not _RULE_ID.fullmatch(item["id"]):
        problems.append("id must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit")
    if not isinstance(item.get("description"), str) or not item["description"].strip():
        problems.append("description is required")
    problems += _pattern_problems(item, kind)
    return problems + _then_problems(item.get("then"), kind)


def _pattern_problems(item: dict[str, Any], kind: str | None) -> list[str]:
    if ("when_all" in item) == ("fact" in item or "when" in item):
        return ["give either 'fact' with 'when', or 'when_all' (a list of {fact, when})"]
    if "when_all" not in item:
        return _one_pattern_problems(item, kind, "")
    joined = item["when_all"]
    if not isinstance(joined, list) or not 1 <= len(joined) <= _MAX_JOIN:
        return [f"when_all must list 1 to {_MAX_JOIN} {{fact, when}} patterns"]
    problems = []
    for i, part in enumerate(joined):
        if not isinstance(part, dict) or set(part) != {"fact", "when"}:
            problems.append(f"when_all[{i}] must have exactly 'fact' and 'when'")
        else:
            problems += _one_pattern_problems(part, kind, f"when_all[{i}].")
    return problems


def _one_pattern_problems(part: dict[str, Any], kind: str | None, prefix: str) -> list[str]:
    fact = part.get("fact")
    if fact not in FACT_TYPES:
        return [f"{prefix}fact must be one of {', '.join(FACT_TYPES)}, got {fact!r}"]
    if kind and fact not in KINDS[kind].facts:
        return [f"{prefix}fact '{fact}' is not seen by {kind} rules (they see {', '.join(KINDS[kind].facts)})"]
    if "when" not in part:
        return [f"{prefix}when is required (use {{}} to match every {fact})"]
    return conditions.check(part["when"], FACT_TYPES[fact].fields, f"{prefix}when")


def _then_problems(then: object, kind: str | None) -> list[str]:
    if not isinstance(then, dict) or "action" not in then:
        return ["then must be a mapping with an 'action'"]
    action = ACTIONS.get(then["action"])
    allowed = KINDS[kind].actions if kind else tuple(ACTIONS)
    if action is None or action.name not in allowed:
        return [f"then.action must be one of {', '.join(allowed)}, got {then['action']!r}"]
    declared = {p.name: p for p in action.params}
    problems = [f"then.{k}: {action.name} takes no parameter '{k}'" for k in then
                if k != "action" and k not in declared]
    for param in action.params:
        problem = _param_problem(param, then.get(param.name))
        if problem:
            problems.append(f"then.{param.name}: {problem}")
    return problems


def _param_problem(param: Param, value: object) -> str | None:
    if value is None:
        return "is required"
    if param.type == INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        return None if ok else f"must be a whole number ≥ 1, got {value!r}"
    if param.type == STRING_LIST:
        if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value):
            return "must be a non-empty list without repeats"
        wrong = [v for v in value if v not in param.choices]
        return f"{wrong} not among {', '.join(param.choices)}" if wrong else None
    if not isinstance(value, str) or not value.strip():
        return "must be non-empty text"
    if param.choices and value not in param.choices:
        return f"{value!r} is not one of {', '.join(param.choices)}"
    if param.pattern and not re.fullmatch(param.pattern, value):
        return f"{value!r} must be UPPER_SNAKE_CASE"
    return None


def _rule(item: dict[str, Any]) -> Rule:
    parts = item.get("when_all", [item])
    patterns = tuple(Pattern(p["fact"], p["when"]) for p in parts)
    params = {k: v for k, v in item["then"].items() if k != "action"}
    return Rule(item["id"], item["description"], patterns, item["then"]["action"], params)
