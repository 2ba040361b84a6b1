"""Compiling and testing a draft with durable-rules in a throwaway process.

Drafts change often and are compiled to be validated, not served: compiling leaks memory that
durable never frees (``$mt`` patterns above all) and a bad document may crash the C engine. So the
child compiles rule by rule (naming the culprit of a bare error number), then runs the document's
tests, prints firings as JSON and exits; the serving process compiles only approved versions.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.decision import Firing
from rules.document import RuleSetDocument
from rules.errors import DocumentError, RuleSetCompileError

_NO_DURABLE = 3
_PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class SandboxReport:
    errors: tuple[DocumentError, ...] = ()
    firings: dict[str, list[Firing]] = field(default_factory=dict)  # test name → firings
    available: bool = True  # False when durable-rules cannot be imported


def run_in_sandbox(document: RuleSetDocument, *, timeout: float = 120) -> SandboxReport:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-m", "rules.sandbox"], input=json.dumps(document.source),
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return SandboxReport(errors=(DocumentError(f"durable-rules did not finish within {timeout:g} s"),))
    if done.returncode == _NO_DURABLE:
        return SandboxReport(available=False)
    if done.returncode != 0:
        return SandboxReport(errors=(_crash(done.returncode, done.stderr),))
    return _report(json.loads(done.stdout))


def _crash(returncode: int, stderr: str) -> DocumentError:
    steps = [line.split(" ", 1) for line in stderr.splitlines() if line.startswith(("compiling ", "testing "))]
    how = f"signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    if not steps:
        return DocumentError(f"durable-rules failed ({how}): {stderr.strip()[-500:]}")
    step, subject = steps[-1]
    if step == "compiling":
        return DocumentError(f"durable-rules crashed ({how}) compiling this rule", rule_id=subject)
    return DocumentError(f"durable-rules crashed ({how}) running this test", test=subject)


def _report(answer: dict[str, Any]) -> SandboxReport:
    errors = tuple(DocumentError(e["message"], e["rule_id"]) for e in answer["errors"])
    firings = {name: [Firing(f["rule"], f["action"], f["params"], tuple(f["facts"])) for f in fired]
               for name, fired in answer["firings"].items()}
    return SandboxReport(errors=errors, firings=firings)


def _child(source: dict[str, Any]) -> dict[str, Any]:
    from rules import engine
    from rules.document import read_document

    document = read_document(source)
    errors = engine.compile_each_rule(document, lambda rule: _progress("compiling", rule.id))
    if errors:
        return {"errors": [{"message": e.message, "rule_id": e.rule_id} for e in errors], "firings": {}}
    try:
        compiled = engine.CompiledRuleSet("check_all", document)
    except RuleSetCompileError as error:
        return {"errors": [{"message": str(error), "rule_id": None}], "firings": {}}
    firings = {}
    for test in document.tests:
        _progress("testing", test.name)
        firings[test.name] = [f.to_record() for f in compiled.fire(test.facts)]
    return {"errors": [], "firings": firings}


def _progress(step: str, subject: str) -> None:
    print(step, subject, file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        import rules.engine  # noqa: F401 — only the child ever loads durable for a draft
    except ImportError as missing:
        print(missing, file=sys.stderr)
        sys.exit(_NO_DURABLE)
    print(json.dumps(_child(json.load(sys.stdin))))
