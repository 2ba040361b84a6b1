"""The durable-rules adapter — the only module that imports durable.

durable-rules 2.0.28 is used strictly as a matcher, with each of its traps handled here:

* our Host subclass never starts durable's two background timer threads (``_run`` does nothing);
* a decision's facts are asserted as one batch (``assert_facts``; never events), each with a unique
  ``_ref`` so identical facts are not deduplicated, and every pattern names its ``fact`` type so that
  a rule of only ``$ex``/``$nex`` cannot match durable's own state fact. durable's Python layer would
  leave a batch's actions to its timer thread when one fact of it matched nothing; we drive the C API
  and collect every queued action ourselves, whatever the batch's result code says;
* each compiled rule set decides in one session that lives as long as it does (at most 1024 may live):
  a decision retracts the batch it asserted, leaving the session as it found it. The session is
  opened with a sentinel fact, matched by its own rule, so that an action has run in it — deleting a
  session in which nothing ran can segfault — and it is deleted only when a decision fails part-way;
* only the fields some condition names are sent (the rest cannot change a match), and only facts of
  a type some pattern names;
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import durable_rules_engine
from durable import engine as durable

from rules.conditions import FIELD_OPERATORS, LOGICAL, normalize
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
_ID = re.compile(r'"id":"(\d+)"')  # no key of a fact is "id"; in a text value a quote is escaped
_PATTERN_OR_ID = re.compile(r'"f(\d+)":\{|"id":"(\d+)"')  # see _matched


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
    """One registered durable ruleset and the one session it decides in; callers hold the module lock.

    A decision asserts its facts in one batch, collects every action the batch queued, and retracts
    the same batch: the session is empty again (but for durable's state fact and our sentinel) and
    serves the next decision. Creating and deleting a session per decision cost a third of the
    engine's time. A decision that fails part-way leaves its session behind for a fresh one.
    """

    def __init__(self, name: str, document: RuleSetDocument):
        self.name, self.document = name, document
        self._rules = {rule.id: rule for rule in document.rules}
        try:
            _the_host().register_rulesets({name: definition(document)})
        except durable_rules_engine.error as error:
            raise RuleSetCompileError(f"durable-rules refused rule set {name}: {explain(error)}") from None
        self._ruleset = _the_host().get_ruleset(name)
        self._handle = self._ruleset._handle  # see fire
        # Only the fields some pattern names reach durable (a condition reads nothing else), and only
        # facts of the types some pattern names: a fact no pattern names can match nothing.
        self._keys = {fact_type: {name: _key_json(name) for name in sorted(fields)}
                      for fact_type, fields in referenced_fields(document).items()}
        self._sid: str | None = None

    def fire(self, facts: Mapping[str, Sequence[Mapping[str, object]]]) -> list[Firing]:
        sid = self._sid or self._open_session()
        texts: list[str] = []
        firsts: list[tuple[int, str]] = []  # the number of each fact type's first fact
        for fact_type, items in facts.items():
            keys = self._keys.get(fact_type)
            if keys is not None and items:
                firsts.append((len(texts), fact_type))
                for fact in items:
                    texts.append(_body_json(fact, keys) + _tail(fact_type, len(texts), sid))
        if not texts:
            return []
        # We drive durable's C API ourselves rather than Host.assert_facts: durable re-serializes
        # facts with json.dumps, which writes 1e-07 — a number its parser rejects — its Python layer
        # runs no action of a batch in which one fact matched nothing (they would wait for its timer
        # thread, which _Host never starts), and its action dispatch triples the cost of a decision.
        try:
            code, state = durable_rules_engine.assert_facts(self._handle, "[" + ",".join(texts) + "]")
            if code == _OBSERVED:
                raise RuntimeError(f"durable-rules saw one of these facts before: {texts}")
            fired = self._run_actions(state, firsts)
            durable_rules_engine.retract_facts(self._handle, _retraction(len(texts), sid))
        except BaseException:
            self._close_session()
            raise
        return list(fired.values())

    def _open_session(self) -> str:
        """A session in which an action has run (the sentinel's), so that deleting it is safe."""
        sid = self._sid = str(next(_session_ids))
        code, state = durable_rules_engine.assert_fact(self._handle, f'{{"fact":"{_SENTINEL}","sid":"{sid}"}}')
        fired = self._run_actions(state, ())
        if code == _OBSERVED or fired:
            raise AssertionError(f"a new durable session {sid} was not empty")
        return sid

    def _close_session(self) -> None:
        sid, self._sid = self._sid, None
        if sid is not None:
            self._ruleset.delete_state(sid)

    def _run_actions(self, state: int, firsts: Sequence[tuple[int, str]]
                     ) -> dict[tuple[str, tuple[str, ...]], Firing]:
        """Every action the last assertion queued, as firings (``firsts``: see _ref)."""
        fired: dict[tuple[str, tuple[str, ...]], Firing] = {}
        started = durable_rules_engine.start_action_for_state(self._handle, state)
        message = started[1] if started else None
        while message:  # durable hands out one action at a time: {"<rule id>": {"f0": fact, ...}}
            rule_id = message[2:message.index('"', 2)]  # rule ids are plain identifiers
            if rule_id != _SENTINEL:
                rule = self._rules[rule_id]
                matched: tuple[str, ...]
                if len(rule.patterns) == 1:  # a fact's id is the only "id" key in the text
                    matched = (_ref(firsts, _ID.search(message)[1]),)  # type: ignore[index]
                else:
                    matched = _matched(message, firsts, len(rule.patterns))
                # durable splits an $or into one variant per branch, so a fact meeting two
                # branches fires the rule twice; a rule fires once per combination of facts
                if (rule_id, matched) not in fired:
                    fired[rule_id, matched] = Firing(rule.id, rule.action, dict(rule.params), matched)
            message = durable_rules_engine.complete_and_start_action(self._handle, state)
        return fired


def _matched(message: str, firsts: Sequence[tuple[int, str]], patterns: int) -> tuple[str, ...]:
    """The references of the facts an action of a rule of several patterns matched, in pattern order.

    Read off the text, not parsed: each matched fact follows its pattern's key ("f1") and holds one
    "id" key of its own (our facts nest no objects; a quote inside a text value is escaped). Parsing
    the whole message cost more than the rest of the decision's firings together (issue 12)."""
    ids: dict[str, str] = {}
    pattern = ""
    for key, number in _PATTERN_OR_ID.findall(message):
        if key:
            pattern = key
        elif pattern not in ids:
            ids[pattern] = number
    return tuple(_ref(firsts, ids[str(i)]) for i in range(patterns))


def _ref(firsts: Sequence[tuple[int, str]], number: str) -> str:
    """The reference ("requirement[2]") of the fact a decision numbered ``number``, given the number
    of each fact type's first fact, in order."""
    at = int(number)
    first, fact_type = next(pair for pair in reversed(firsts) if pair[0] <= at)
    return fact_ref(fact_type, at - first)


def referenced_fields(document: RuleSetDocument) -> dict[str, set[str]]:
    """Per fact type some pattern names, the fields its patterns' conditions name."""
    fields: dict[str, set[str]] = {}
    for rule in document.rules:
        for pattern in rule.patterns:
            fields.setdefault(pattern.fact, set()).update(_condition_fields(pattern.when))
    return fields


def _condition_fields(condition: Mapping[str, Any]) -> Iterator[str]:
    for key, value in condition.items():  # a checked document's: operands are literals
        if key in LOGICAL:
            for item in value:
                yield from _condition_fields(item)
        elif key in FIELD_OPERATORS:
            yield from value  # the field names it maps to operands ($iany/$iall: to item conditions)
        else:
            yield key  # plain equality


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


def _fact_json(fact: Mapping[str, object], fact_type: str, number: int, sid: str) -> str:
    """The text durable reads for a fact: all its fields, then its type, id and session."""
    return _body_json(fact, {name: _key_json(name) for name in fact}) + _tail(fact_type, number, sid)


def _body_json(fact: Mapping[str, object], keys: Mapping[str, str]) -> str:
    """``{`` and the fact's fields among ``keys`` (field → its JSON key and colon), each with a comma.

    Written field by field, each value by a C-level writer for its type, rather than by json's
    encoder with default=float and a search for exponents afterwards: a third of a decision's
    time went there. The text is the same (test_engine)."""
    try:
        body = ",".join([key + _WRITERS[type(value)](value) for name, value in fact.items() if (key := keys.get(name))])
    except KeyError:  # a type without a writer of its own
        body = ",".join([key + _json_value(value) for name, value in fact.items() if (key := keys.get(name))])
    return "{" + body + "," if body else "{"


@functools.lru_cache(maxsize=4096)
def _tail(fact_type: str, number: int, sid: str) -> str:
    """The end of the ``number``-th fact of a decision: its type, id and session.

    An id of our own spares durable hashing the fact's text for one (and makes identical facts
    distinct), and lets a decision retract its facts by id alone."""
    return f'"fact":"{fact_type}","id":"{number}","sid":"{sid}"}}'  # plain identifiers: no escaping


@functools.lru_cache(maxsize=1024)
def _retraction(count: int, sid: str) -> str:
    return "[" + ",".join(f'{{"id":"{number}","sid":"{sid}"}}' for number in range(count)) + "]"


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
