"""A small pure-Python evaluator of the rule-set document format.

It is the test oracle for the durable-rules adapter (both must agree on every QA test case) and the
recorded fallback engine when durable-rules cannot be imported. Its semantics are durable's, as
measured (tests/rules/test_agreement.py):

* a missing field fails every test except ``$nex``; ``$neq`` on a missing field is false;
* ``$iall`` on an empty list is false, like ``$iany``;
* ``when_all`` fires once per combination of *distinct* facts.
"""
from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from rules.conditions import FIELD_OPERATORS, ITEM, LOGICAL
from rules.decision import Firing
from rules.document import RuleSetDocument
from rules.facts import fact_ref, to_wire
from rules.patterns import matches
from rules.rule import Rule

ENGINE_NAME = "python-ref"

Fact = Mapping[str, object]


def fire(document: RuleSetDocument, facts: Mapping[str, Sequence[Fact]]) -> list[Firing]:
    """Every firing of every rule over built facts (see rules.facts.build_fact)."""
    wire = to_wire(facts)  # numbers as doubles, as durable compares them
    return [firing for rule in document.rules for firing in _fire_rule(rule, wire)]


def _fire_rule(rule: Rule, facts: Mapping[str, Sequence[Fact]]) -> Iterator[Firing]:
    candidates = [
        [fact_ref(p.fact, i) for i, fact in enumerate(facts.get(p.fact, ())) if holds(p.when, fact)]
        for p in rule.patterns
    ]
    for refs in itertools.product(*candidates):
        if len(set(refs)) == len(refs):
            yield Firing(rule.id, rule.action, dict(rule.params), tuple(refs))


def holds(condition: Mapping[str, Any], fact: Fact) -> bool:
    return all(_holds(key, value, fact) for key, value in condition.items())


def _holds(key: str, value: Any, fact: Fact) -> bool:  # value: a checked document's
    if key in LOGICAL:
        combine = all if key == "$and" else any
        return combine(holds(item, fact) for item in value)
    if key in FIELD_OPERATORS:
        return all(_OPERATORS[key](fact, name, operand) for name, operand in value.items())
    return key in fact and fact[key] == value


def _compare(test: Callable[[Any, Any], Any]) -> Callable[[Fact, str, Any], bool]:
    return lambda fact, name, operand: name in fact and test(fact[name], operand)


def _items(combine: Callable[[Iterable[bool]], bool]) -> Callable[[Fact, str, Any], bool]:
    def test(fact: Fact, name: str, inner: Any) -> bool:
        items = fact.get(name)
        return isinstance(items, list) and bool(items) and combine(holds(inner, {ITEM: x}) for x in items)
    return test


_OPERATORS: dict[str, Callable[[Fact, str, Any], bool]] = {
    "$gt": _compare(operator.gt),
    "$gte": _compare(operator.ge),
    "$lt": _compare(operator.lt),
    "$lte": _compare(operator.le),
    "$neq": _compare(operator.ne),
    "$mt": _compare(lambda value, pattern: isinstance(value, str) and matches(pattern, value)),
    "$imt": _compare(lambda value, pattern: isinstance(value, str)
                     and matches(pattern, value, ignore_case=True)),
    "$ex": lambda fact, name, _: name in fact,
    "$nex": lambda fact, name, _: name not in fact,
    "$iall": _items(all),
    "$iany": _items(any),
}
