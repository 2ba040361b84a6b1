"""Evaluating an approved rule set: facts in, a Decision out."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules import reference
from rules.decision import Decision, Firing, decide
from rules.document import RuleSetDocument, read_document
from rules.facts import normalize_and_hash
from rules.vocabulary import KINDS

log = logging.getLogger(__name__)
ENGINES = ("auto", "durable", "python-ref")
_durable_missing: str | None = None  # why durable could not be imported, once we know
# rules.engine.fire once imported (not at import time: durable is optional)
_durable_fire: Callable[[str, int, RuleSetDocument, Mapping[str, Sequence[Mapping[str, object]]]], list[Firing]] | None = None
_FACT_TYPES_OF = {name: frozenset(kind.facts) for name, kind in KINDS.items()}


@dataclass(frozen=True)
class RuleSet:
    """An identified, checked rule-set version; compiled for durable on its first evaluation."""
    id: str
    version: int
    kind: str
    document: RuleSetDocument


def load_ruleset(source: str | bytes | Mapping[str, Any], *, ruleset_id: str | int, version: int, kind: str) -> RuleSet:
    """Check a document (dict, JSON or YAML text) for ``kind``; raises InvalidDocument."""
    return RuleSet(str(ruleset_id), version, kind, read_document(source, kind))


def evaluate(ruleset: RuleSet, facts: Mapping[str, Sequence[Mapping[str, object]]], *,
             engine: str = "auto") -> Decision:
    """Decide over ``facts`` (fact type → list of facts, Python values welcome, see build_fact).

    ``engine="auto"`` uses durable-rules and falls back to the pure-Python evaluator, recording
    which one decided, when durable cannot be imported. Raises FactError for facts outside the
    vocabulary of the rule set's kind.
    """
    built, digest = normalize_and_hash(facts, _FACT_TYPES_OF[ruleset.kind])
    name = resolve_engine(engine)
    firings = _fire(name, ruleset, built)
    return decide(ruleset_id=ruleset.id, version=ruleset.version, engine=name,
                  input_hash=digest, firings=firings, facts=built)


def resolve_engine(engine: str = "auto") -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "auto":
        return engine
    return reference.ENGINE_NAME if durable_unavailable() else "durable"


def durable_unavailable() -> str | None:
    """Why durable-rules cannot be used in this process, or None when it can."""
    global _durable_missing
    if _durable_missing is None:
        try:
            import rules.engine  # noqa: F401 — imported for the side effect of finding out
            _durable_missing = ""
        except ImportError as error:
            _durable_missing = f"durable-rules cannot be imported: {error}"
            log.warning("%s; rule sets are evaluated by %s", _durable_missing, reference.ENGINE_NAME)
    return _durable_missing or None


def _fire(engine: str, ruleset: RuleSet, facts: dict[str, list[dict[str, object]]]) -> list[Firing]:
    if engine == reference.ENGINE_NAME:
        return reference.fire(ruleset.document, facts)
    global _durable_fire
    if _durable_fire is None:
        from rules import engine as durable_engine  # only here: importing durable is optional
        _durable_fire = durable_engine.fire
    return _durable_fire(ruleset.id, ruleset.version, ruleset.document, facts)
