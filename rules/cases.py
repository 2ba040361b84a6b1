"""QA's test cases inside a rule-set document: reading them, and judging what an engine fired."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rules.decision import Firing
from rules.errors import DocumentError
from rules.facts import FactError, normalize_facts, parse_ref
from rules.rule import Rule
from rules.vocabulary import KINDS

_TEST_KEYS = {"name", "description", "facts", "expect"}
Facts = dict[str, list[dict[str, object]]]  # built facts, as normalize_facts returns them


@dataclass(frozen=True)
class Expectation:
    rule: str
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    fact: str | None = None


@dataclass(frozen=True)
class TestCase:
    name: str
    facts: dict[str, list[dict[str, object]]]
    expect: tuple[Expectation, ...]


@dataclass(frozen=True)
class TestResult:
    name: str
    passed: bool
    message: str = ""
    rule_ids: tuple[str, ...] = ()  # the rules a failure is about


def judge(test: TestCase, firings: Sequence[Firing]) -> TestResult:
    missing = [e for e in test.expect if not any(_meets(e, f) for f in firings)]
    surprising = [f for f in firings if not _expected(f, test.expect)]
    problems = [f"expected {_described(e)} did not fire" for e in missing]
    problems += [f"rule '{f.rule_id}' fired unexpectedly on {', '.join(f.facts)}" for f in surprising]
    rule_ids = sorted({e.rule for e in missing} | {f.rule_id for f in surprising})
    return TestResult(test.name, not problems, "; ".join(problems), tuple(rule_ids))


def _meets(expectation: Expectation, firing: Firing) -> bool:
    return (firing.rule_id == expectation.rule
            and (expectation.fact is None or expectation.fact in firing.facts)
            and all(firing.params.get(k) == v for k, v in expectation.params.items()))


def _expected(firing: Firing, expect: Sequence[Expectation]) -> bool:
    mine = [e for e in expect if e.rule == firing.rule_id]
    if any(e.fact for e in mine):
        # once a test names the facts a rule fires on, it names all of them
        return any(_meets(e, firing) for e in mine if e.fact)
    return bool(mine)


def _described(e: Expectation) -> str:
    details = [e.action] if e.action else []
    details += [f"{k}={v}" for k, v in e.params.items()] + ([f"on {e.fact}"] if e.fact else [])
    return f"rule '{e.rule}'" + (f" ({', '.join(details)})" if details else "")


def read_tests(raw: object, kind: str | None, rules: dict[str, Rule], broken: frozenset[str] = frozenset()
               ) -> tuple[list[TestCase], list[DocumentError]]:
    if not isinstance(raw, list) or not raw:
        return [], [DocumentError("'tests' must be a non-empty list: every rule needs a test it fires in")]
    tests, errors, seen = [], [], set()
    for index, item in enumerate(raw):
        name = item.get("name") if isinstance(item, dict) else None
        name = name if isinstance(name, str) and name.strip() else f"tests[{index}]"
        problems = [DocumentError("duplicate test name", test=name)] if name in seen else []
        seen.add(name)
        test, more = _test(item, name, kind, rules, broken)
        problems += more
        errors += problems
        if test and not problems:
            tests.append(test)
    return tests, errors


def _test(item: object, name: str, kind: str | None, rules: dict[str, Rule], broken: frozenset[str]
          ) -> tuple[TestCase | None, list[DocumentError]]:
    if not isinstance(item, dict) or not {"name", "facts", "expect"} <= set(item):
        return None, [DocumentError("a test needs 'name', 'facts' and 'expect'", test=name)]
    unknown = [DocumentError(f"unknown key '{k}'", test=name) for k in item if k not in _TEST_KEYS]
    try:
        facts = normalize_facts(item["facts"], KINDS[kind].facts if kind else None)
    except (FactError, AttributeError, TypeError) as error:
        return None, unknown + [DocumentError(f"facts: {error}", test=name)]
    if not isinstance(item["expect"], list):
        return None, unknown + [DocumentError("expect must be a list (empty: nothing fires)", test=name)]
    expected, errors = _expectations(item["expect"], facts, rules, broken, name)
    return TestCase(name, facts, tuple(expected)), unknown + errors


def _expectations(entries: list[Any], facts: Facts, rules: dict[str, Rule], broken: frozenset[str], name: str
                  ) -> tuple[list[Expectation], list[DocumentError]]:
    expected, errors = [], []
    for entry in entries:
        rule_id = entry.get("rule") if isinstance(entry, dict) else None
        rule_id = rule_id if isinstance(rule_id, str) else None
        if rule_id in broken:
            continue  # the rule's own errors are reported; its expectations wait for a fix
        expectation = _expectation(entry, facts, rules)
        if isinstance(expectation, Expectation):
            expected.append(expectation)
        else:
            errors.append(DocumentError(f"expect: {expectation}", rule_id=rule_id, test=name))
    return expected, errors


def _expectation(entry: Any, facts: Facts, rules: dict[str, Rule]) -> Expectation | str:
    """The expectation, or what is wrong with it."""
    rule = rules.get(entry["rule"]) if isinstance(entry, dict) and isinstance(entry.get("rule"), str) else None
    if rule is None:
        return f"names no rule of this document: {entry!r}"
    params = {k: v for k, v in entry.items() if k not in ("rule", "action", "fact")}
    if entry.get("action", rule.action) != rule.action:
        return f"rule '{rule.id}' takes action {rule.action}, not {entry['action']}"
    if set(params) - set(rule.params):
        return f"{sorted(set(params) - set(rule.params))} are not parameters of {rule.action}"
    ref = entry.get("fact")
    if ref is not None and not _ref_exists(ref, facts):
        return f"fact {ref!r} is not a fact of this test (write e.g. candidate_lot[0])"
    return Expectation(rule.id, entry.get("action"), params, ref)


def _ref_exists(ref: object, facts: Facts) -> bool:
    try:
        fact_type, index = parse_ref(str(ref))
    except ValueError:
        return False
    return index < len(facts.get(fact_type, ()))
