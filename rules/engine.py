"""The durable-rules adapter — the only module that imports durable.

durable-rules 2.0.28 is used strictly as a matcher, with each of its traps handled here:

* our Host subclass never starts durable's two background timer threads (``_run`` does nothing);
* facts are asserted one at a time (never events, never batches), each with a unique ``_ref`` so
  identical facts are not deduplicated, and every pattern names its ``fact`` type so that a rule of
  only ``$ex``/``$nex`` cannot match durable's own state fact;
* one decision = one fresh session id, deleted afterwards (at most 1024 may live); a sentinel fact,
  matched by the lowest-priority rule, guarantees an action ran first — deleting a session in which
  nothing ran can segfault;
* every (rule set id, version) compiles once per process: compiling leaks memory (``$mt`` above all);
* one module-level lock serializes evaluations: the C engine holds the GIL per call, but an
  evaluation is many calls on shared state.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import durable_rules_engine
from durable import engine as durable

from rules.conditions import normalize
from rules.decision import Firing
from rules.document import RuleSetDocument
from rules.errors import DocumentError, RuleSetCompileError, RuleSetConflict
from rules.facts import fact_ref
from rules.rule import Pattern, Rule

ENGINE_NAME = "durable"
_SENTINEL = "__sentinel__"
_LAST = 1_000_000  # durable fires lower "pri" first
_NOT_HANDLED, _OBSERVED, _DEFERRED = 1, 2, 3
_ERROR_HINTS = {
    "100": "an empty condition", "202": "a text or operator it cannot read",
    "501": "a $mt/$imt pattern it cannot parse", "508": "an empty or invalid pattern",
}

# durable reads UTF-8 text, not \u escapes; it compares numbers as doubles, as the reference does
_encode = json.JSONEncoder(ensure_ascii=False, default=float).encode
_encode_string = json.encoder.encode_basestring  # what _encode does with text (ensure_ascii=False), in C
_lock = threading.Lock()
_host: _Host | None = None
_compiled: dict[tuple[str, int], CompiledRuleSet] = {}
_session_ids = itertools.count(1)


class _Host(durable.Host):  # type: ignore[misc]  # durable ships no types: its Host is Any
    def _run(self) -> None:
        """durable starts two timer threads here that dispatch actions between our calls: never."""


def fire(ruleset_id: str, version: int, document: RuleSetDocument,
         facts: Mapping[str, Sequence[Mapping[str, object]]]) -> list[Firing]:
    """Firings over built facts, compiling (ruleset_id, version) on first use in this process."""
    with _lock:
        return _compiled_ruleset(str(ruleset_id), version, document).fire(facts)


def _the_host() -> _Host:
    """Built on first compilation, never at import."""
    global _host
    if _host is None:
        _host = _Host()
    return _host


def ruleset_name(ruleset_id: str, version: int) -> str:
    safe = re.sub(r"[^A-Za-z0-9_]", "_", ruleset_id)
    if safe != ruleset_id:
        safe += "_" + hashlib.sha256(ruleset_id.encode()).hexdigest()[:8]
    return f"rs_{safe}_v{version}"


def _compiled_ruleset(ruleset_id: str, version: int, document: RuleSetDocument) -> CompiledRuleSet:
    key = (ruleset_id, version)
    existing = _compiled.get(key)
    if existing is None:
        existing = _compiled[key] = CompiledRuleSet(ruleset_name(ruleset_id, version), document)
    elif existing.document.digest != document.digest:
        raise RuleSetConflict(f"rule set {ruleset_id} v{version} is already compiled from another document")
    return existing


class CompiledRuleSet:
    """One registered durable ruleset; callers hold the module lock around ``fire``."""

    def __init__(self, name: str, document: RuleSetDocument):
        self.name, self.document = name, document
        self._rules = {rule.id: rule for rule in document.rules}
        try:
            _the_host().register_rulesets({name: definition(document)})
        except durable_rules_engine.error as error:
            raise RuleSetCompileError(f"durable-rules refused rule set {name}: {explain(error)}") from None
        self._ruleset = _the_host().get_ruleset(name)
        self._handle = self._ruleset._handle  # see _assert

    def fire(self, facts: Mapping[str, Sequence[Mapping[str, object]]]) -> list[Firing]:
        fired: dict[tuple[str, tuple[str, ...]], Firing] = {}
        sid = str(next(_session_ids))
        try:
            for fact_type, items in facts.items():
                for index, fact in enumerate(items):
                    self._assert(_fact_json(fact, fact_type, fact_ref(fact_type, index), sid), fired)
        finally:
            self._assert(f'{{"fact":"{_SENTINEL}","sid":"{sid}"}}', fired)
            self._ruleset.delete_state(sid)
        return list(fired.values())

    def _assert(self, text: str, fired: dict[tuple[str, tuple[str, ...]], Firing]) -> None:
        # We drive durable's C API ourselves rather than Host.assert_fact: durable re-serializes
        # facts with json.dumps, which writes 1e-07 — a number its parser rejects — and its Python
        # action dispatch (closures, state round-trips through JSON) triples the cost of a decision.
        code, state = durable_rules_engine.assert_fact(self._handle, text)
        if code == _OBSERVED:
            raise RuntimeError(f"durable-rules saw this fact twice: {text}")
        if code != _NOT_HANDLED:
            self._run_actions(0 if code == _DEFERRED else state, fired)

    def _run_actions(self, state: int, fired: dict[tuple[str, tuple[str, ...]], Firing]) -> None:
        started = durable_rules_engine.start_action_for_state(self._handle, state)
        message = json.loads(started[1]) if started else None
        while message:
            (rule_id, matched), = message.items()  # durable hands out one action at a time
            if rule_id != _SENTINEL:
                firing = self._firing(rule_id, matched)
                # durable splits an $or into one variant per branch, so a fact meeting two
                # branches fires the rule twice; a rule fires once per combination of facts
                fired.setdefault((rule_id, firing.facts), firing)
            following = durable_rules_engine.complete_and_start_action(self._handle, state)
            message = json.loads(following) if following else None

    def _firing(self, rule_id: str, matched: Mapping[str, Mapping[str, str]]) -> Firing:
        rule = self._rules[rule_id]
        refs = tuple(matched[f"f{i}"]["_ref"] for i in range(len(rule.patterns)))
        return Firing(rule.id, rule.action, dict(rule.params), refs)


def definition(document: RuleSetDocument) -> dict[str, Any]:
    """The durable ruleset for a document (actions are dispatched by CompiledRuleSet, not durable)."""
    rules = {
        rule.id: {"all": [{f"f{i}": _pattern(p)} for i, p in enumerate(rule.patterns)], "run": _unused}
        for rule in document.rules
    }
    rules[_SENTINEL] = {"all": [{"f0": {"fact": _SENTINEL}}], "pri": _LAST, "run": _unused}
    return rules


def compile_each_rule(document: RuleSetDocument, before: Callable[[Rule], None]) -> list[DocumentError]:
    """Compile every rule alone, so durable's bare error numbers can name the rule at fault.

    For a throwaway process (rules.sandbox): the rulesets it registers stay for the process's life.
    """
    errors = []
    for index, rule in enumerate(document.rules):
        before(rule)
        alone = RuleSetDocument((rule,), (), {}, f"rule-{index}")
        try:
            _the_host().register_rulesets({f"check_{index}": definition(alone)})
        except durable_rules_engine.error as error:
            errors.append(DocumentError(f"durable-rules cannot compile it: {explain(error)}", rule.id))
    return errors


def explain(error: Exception) -> str:
    code = re.search(r"error code: (\d+)", str(error))
    hint = _ERROR_HINTS.get(code.group(1)) if code else None
    return f"{error}" + (f" ({hint})" if hint else "")


def _pattern(pattern: Pattern) -> dict[str, Any]:
    condition = normalize(pattern.when)
    fact = {"fact": pattern.fact}
    return fact if condition is None else {"$and": [fact, condition]}


def _unused(_closure: object) -> None:
    """durable insists on an action per rule; ours run in CompiledRuleSet._run_actions."""
    raise AssertionError("durable dispatched an action itself")


def _fact_json(fact: Mapping[str, object], fact_type: str, ref: str, sid: str) -> str:
    # Written field by field, each value by a C-level writer for its type, rather than by json's
    # encoder with default=float and a search for exponents afterwards: a third of a decision's
    # time went there. The text is the same (test_engine).
    try:
        body = ",".join([_key_json(k) + _WRITERS[type(v)](v) for k, v in fact.items()])
    except KeyError:  # a type without a writer of its own
        body = ",".join([_key_json(k) + _json_value(v) for k, v in fact.items()])
    # fact type, reference and session id are plain identifiers: no escaping needed
    tail = f'"fact":"{fact_type}","_ref":"{ref}","sid":"{sid}"}}'
    return "{" + body + ("," if body else "") + tail


@functools.lru_cache(maxsize=1024)
def _key_json(key: str) -> str:
    return _encode(key) + ":"


@functools.lru_cache(maxsize=4096)
def _decimal_json(value: Decimal) -> str:
    """As a double, the way durable compares it, in plain notation (durable cannot parse 1e-07).

    Cached by value: equal Decimals (12.5, 12.50) are the same double and the same text."""
    text = repr(float(value))
    return format(Decimal(text), "f") if "e" in text else text


def _json_value(value: object) -> str:
    writer = _WRITERS.get(type(value))
    if writer is not None:
        return writer(value)
    if isinstance(value, float):
        return _decimal_json(Decimal(repr(value)))
    return _encode(value)


def _list_json(values: list[object]) -> str:
    return "[" + ",".join(map(_json_value, values)) + "]"


_WRITERS: dict[type, Callable[[Any], str]] = {  # each takes values of its own type
    str: _encode_string, Decimal: _decimal_json, bool: {True: "true", False: "false"}.__getitem__,
    int: int.__repr__, list: _list_json,
}
