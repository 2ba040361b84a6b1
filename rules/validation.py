"""Validating a draft rule set: schema, compilation and its own tests (SPEC §6 lifecycle).

A draft is valid when the document checks pass, durable-rules compiles every rule, every test
passes on durable-rules and on the pure-Python evaluator alike, and every rule fires in at least
one of the document's tests.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules import reference
from rules.cases import TestCase, TestResult, judge
from rules.decision import Firing, ordered
from rules.document import RuleSetDocument, check_document, read_document
from rules.errors import DocumentError, RuleSetCompileError
from rules.sandbox import run_in_sandbox


@dataclass(frozen=True)
class Validation:
    valid: bool
    errors: tuple[DocumentError, ...]
    tests: tuple[TestResult, ...]
    engines: tuple[str, ...]  # the engines the tests ran on


def validate(source: str | bytes | Mapping[str, Any], kind: str) -> Validation:
    """Blocking (a subprocess compiles the draft): call it from a worker thread in async code."""
    document, errors = check_document(source, kind)
    if errors or document is None:
        return Validation(False, tuple(errors), (), ())
    by_reference = {t.name: reference.fire(document, t.facts) for t in document.tests}
    sandbox = run_in_sandbox(document)
    if sandbox.errors:
        return Validation(False, sandbox.errors, (), ("durable",))
    by_durable = sandbox.firings if sandbox.available else None
    results = tuple(_result(t, by_reference[t.name], None if by_durable is None else by_durable[t.name])
                    for t in document.tests)
    errors = _failures(results) + _silent_rules(document, by_reference if by_durable is None else by_durable)
    engines = (reference.ENGINE_NAME,) if by_durable is None else ("durable", reference.ENGINE_NAME)
    return Validation(not errors, tuple(errors), results, engines)


def run_document_tests(source: RuleSetDocument | str | bytes | Mapping[str, Any], kind: str | None = None, *,
                       engine: str = reference.ENGINE_NAME) -> list[TestResult]:
    """Run a document's own tests on one engine; durable runs in a throwaway process."""
    document = source if isinstance(source, RuleSetDocument) else read_document(source, kind)
    if engine == reference.ENGINE_NAME:
        return [judge(t, reference.fire(document, t.facts)) for t in document.tests]
    if engine != "durable":
        raise ValueError(f"engine must be durable or {reference.ENGINE_NAME}, got {engine!r}")
    sandbox = run_in_sandbox(document)
    if sandbox.errors:
        raise RuleSetCompileError("the document does not compile", sandbox.errors)
    if not sandbox.available:
        raise RuntimeError("durable-rules cannot be imported")
    return [judge(t, sandbox.firings[t.name]) for t in document.tests]


def _result(test: TestCase, by_reference: list[Firing], by_durable: list[Firing] | None) -> TestResult:
    if by_durable is None:
        return judge(test, by_reference)
    if ordered(by_durable) != ordered(by_reference):
        differ = {rule_id for rule_id, _ in _keys(by_durable) ^ _keys(by_reference)}
        message = (f"durable-rules and python-ref disagree: durable fired {_shown(by_durable)}, "
                   f"python-ref fired {_shown(by_reference)}")
        return TestResult(test.name, False, message, tuple(sorted(differ)))
    return judge(test, by_durable)


def _keys(firings: Sequence[Firing]) -> set[tuple[str, tuple[str, ...]]]:
    return {(f.rule_id, f.facts) for f in firings}


def _shown(firings: Sequence[Firing]) -> str:
    return ", ".join(f"{f.rule_id} on {'+'.join(f.facts)}" for f in ordered(firings)) or "nothing"


def _failures(results: Sequence[TestResult]) -> list[DocumentError]:
    return [DocumentError(f"test fails: {r.message}", rule_id=rule_id, test=r.name)
            for r in results if not r.passed for rule_id in (r.rule_ids or (None,))]


def _silent_rules(document: RuleSetDocument, firings: Mapping[str, list[Firing]]) -> list[DocumentError]:
    fired = {f.rule_id for fs in firings.values() for f in fs}
    return [DocumentError("fires in none of the document's tests: add a test where it fires", rule_id=r.id)
            for r in document.rules if r.id not in fired]
