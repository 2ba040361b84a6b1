"""Facts: Python values in, three forms out.

* a *fact* (``build_fact``): vocabulary-checked, number fields as exact Decimals, integer fields as
  ints, enums by value, dates as ISO text, ``None`` dropped — a field that is unknown is absent, and
  rules test absence with ``$nex``;
* the *canonical JSON* of a decision's input, whose sha256 is the decision's ``input_hash``: sorted
  keys, no spaces, Decimals as normalised decimal text, so 5, 5.0 and Decimal("5.00") hash alike;
* the *wire* form the Python reference matches against: numbers as doubles, because that is how
  durable-rules compares them (rules only compare numbers, never compute with them).
"""
from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from backflush.core import digests
from backflush.core.quantity import seconds_between
from rules.vocabulary import (
    BOOLEAN,
    DATE,
    FACT_TYPES,
    INTEGER,
    NUMBER,
    STRING,
    STRING_LIST,
    Field,
)

Facts = Mapping[str, Sequence[Mapping[str, object]]]
_REF = re.compile(r"([a-z_]+)\[(\d+)\]")
_encode_string = json.encoder.encode_basestring  # in C; what canonical_json does with text


class FactError(ValueError):
    """A fact that does not fit the vocabulary."""


def build_fact(fact_type: str, values: Mapping[str, object] | None = None, /, **fields: object) -> dict[str, object]:
    """Turn Python values into a vocabulary-checked fact of ``fact_type``."""
    shapes = _SHAPES.get(fact_type)
    if shapes is None:
        raise FactError(f"unknown fact type '{fact_type}'")
    return _build(fact_type, shapes, {**(values or {}), **fields} if fields else values or {})[0]


def _build_written(fact_type: str, values: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    """What _build gives, by one lookup per value of a writer for its field and type.

    For the values the services hand in (plain types, their enums, dates, None); any other value,
    and any that a writer refuses (a word outside its field's choices, a NaN), sends the fact to
    _build, whose checks name the fault. Both give the same (test_facts)."""
    writers = _WRITERS_OF[fact_type]
    fact: dict[str, object] = {}
    texts: list[str] = []
    append = texts.append
    try:
        for name, value in values.items():
            key, write, convert = writers[name][type(value)]
            if write is None:  # None: the field is absent
                continue
            if convert is not None:
                value = convert(value)
            append(key + write(value))
            fact[name] = value
    except (KeyError, TypeError, _NotFinite):  # TypeError: a signalling NaN cannot be hashed
        return _build(fact_type, _SHAPES[fact_type], values)
    return fact, texts


def _build(fact_type: str, shapes: Mapping[str, _Shape], values: Mapping[str, object]
           ) -> tuple[dict[str, object], list[str]]:
    """The fact, and its fields' canonical JSON texts (``"name":value``, unsorted)."""
    fact: dict[str, object] = {}
    texts: list[str] = []
    for name, value in values.items():
        shape = shapes.get(name)
        if shape is None:
            raise FactError(f"{fact_type} has no field '{name}'")
        # facts are built for every trigger: a value already of its field's plain type passes as
        # is, after the one test its type needs (types are exact: a bool is no integer here), and
        # is written by its type's writer in the same pass
        field, key, passes = shape
        test = passes.get(type(value))
        if test is _FINITE:  # a Decimal
            if value.is_finite():  # type: ignore[attr-defined]  # a Decimal, by the test's type
                fact[name] = value
                texts.append(key + _decimal_json(value))
                continue
        elif test is _TO_DECIMAL:  # an int
            fact[name] = value = Decimal(value)  # type: ignore[arg-type]  # an int, by the test's type
            texts.append(key + _decimal_json(value))
            continue
        elif type(test) is dict:  # a field's choices, each with its text
            if (text := test.get(value)) is not None:
                fact[name] = value
                texts.append(key + text)
                continue
        elif test is not None:  # the writer of a value that passes as is
            fact[name] = value
            texts.append(key + test(value))  # type: ignore[operator]  # a writer: not a sentinel, not a dict
            continue
        if (value := _plain(value)) is not None:
            fact[name] = value = _checked(fact_type, field, value)
            texts.append(key + _value_json(value))
    return fact, texts


_FINITE, _TO_DECIMAL = "if finite", "to Decimal"
_Test = Callable[[Any], str] | dict[object, str] | str
_Shape = tuple[Field, str, dict[type, _Test]]


def _passes(field: Field) -> dict[type, _Test]:
    """The types of value that pass for ``field`` without conversion, each with its test or writer."""
    if field.type == STRING:
        if field.choices:
            texts: dict[object, str] = {choice: _encode_string(choice) for choice in map(_choice_text, field.choices)}
            return {str: texts}
        return {str: _encode_string}
    if field.type == NUMBER:
        return {Decimal: _FINITE, int: _TO_DECIMAL}
    if field.type == INTEGER:
        return {int: int.__repr__}
    return {bool: {True: "true", False: "false"}.__getitem__} if field.type == BOOLEAN else {}


_Writer = tuple[str, Callable[[Any], str] | None, Callable[[Any], object] | None]  # key, writer, converter


def _writers(field: Field, key: str) -> dict[type, _Writer]:
    """Per type of value, how a value of ``field`` is written, and converted first."""
    writers: dict[type, _Writer] = {type(None): (key, None, None)}
    passes = _passes(field)
    if field.type == STRING and field.choices:
        choices = passes[str]
        assert isinstance(choices, dict)
        writers[str] = (key, choices.__getitem__, None)
        for kind in {type(c) for c in field.choices if isinstance(c, enum.Enum)}:
            writers[kind] = (key, choices.__getitem__, _enum_value)
    elif field.type == NUMBER:
        writers |= {Decimal: (key, _decimal_json, None), int: (key, _decimal_json, Decimal)}
    elif field.type == DATE:
        writers[dt.date] = (key, _encode_string, dt.date.isoformat)
    else:
        writers |= {kind: (key, writer, None) for kind, writer in passes.items() if callable(writer)}
    return writers


def _enum_value(member: enum.Enum) -> object:
    return member.value


def _choice_text(choice: object) -> str:
    return str(choice.value if isinstance(choice, enum.Enum) else choice)


# Per fact type and field: (field, its JSON key and colon, its passing types) — looked up once per
# value. The canonical text of a fact is its fields' texts sorted: as text they sort as their names
# do, names being plain lower-case identifiers (test_facts), which '"' and ':' sort before.
_SHAPES: dict[str, dict[str, _Shape]] = {
    name: {f.name: (f, _encode_string(f.name) + ":", _passes(f)) for f in t.fields.values()}
    for name, t in FACT_TYPES.items()}
_ALL_FACT_TYPES = frozenset(FACT_TYPES)


def normalize_facts(facts: Facts, allowed: Iterable[str] | None = None) -> dict[str, list[dict[str, object]]]:
    """Build every fact of a decision input; fact types outside ``allowed`` are refused."""
    return {fact_type: [_build(fact_type, shapes, fact)[0] for fact in items]
            for fact_type, shapes, items in _fact_lists(facts, allowed)}


def normalize_and_hash(facts: Facts, allowed: Iterable[str] | None = None
                       ) -> tuple[dict[str, list[dict[str, object]]], str]:
    """``normalize_facts`` and the ``input_hash`` of what it built, written as it builds.

    The same facts and hash (test_facts), without walking the built facts a second time through
    json's encoder, which called back into Python for every number: that walk was a quarter of a
    decision's time (issue 12)."""
    built: dict[str, list[dict[str, object]]] = {}
    texts: list[str] = []
    for fact_type, _shapes, items in _fact_lists(facts, allowed):
        built[fact_type] = facts_of_type = []
        fact_texts = []
        for values in items:
            fact, field_texts = _build_written(fact_type, values)
            field_texts.sort()
            facts_of_type.append(fact)
            fact_texts.append("{" + ",".join(field_texts) + "}")
        texts.append(_encode_string(fact_type) + ":[" + ",".join(fact_texts) + "]")
    return built, digests.sha256("{" + ",".join(texts) + "}")


def _fact_lists(facts: Facts, allowed: Iterable[str] | None
                ) -> Iterator[tuple[str, Mapping[str, _Shape], Sequence[Mapping[str, object]]]]:
    """Each fact type of ``facts`` in order, with its fields' shapes and its facts."""
    allowed = _ALL_FACT_TYPES if allowed is None else allowed if isinstance(allowed, frozenset) else set(allowed)
    if not facts.keys() <= allowed:
        unknown = sorted(set(facts) - allowed)
        raise FactError(f"fact types {unknown} are not among {sorted(allowed)}")
    for fact_type in sorted(facts):
        items = facts[fact_type]
        if not isinstance(items, (list, tuple)):
            raise FactError("facts must map each fact type to a list of facts")
        shapes = _SHAPES.get(fact_type)
        if shapes is None and items:
            raise FactError(f"unknown fact type '{fact_type}'")
        yield fact_type, shapes or {}, items


def canonical_json(facts: Mapping[str, Sequence[Mapping[str, object]]]) -> str:
    """Of built facts, whose numbers are Decimals (written as text) or, for integer fields, ints."""
    return _value_json(facts)


def _value_json(value: object) -> str:
    return digests.canonical_json(value, plain=_cached_decimal_text, ensure_ascii=False)


def input_hash(facts: Mapping[str, Sequence[Mapping[str, object]]]) -> str:
    return digests.sha256(canonical_json(facts))


def to_wire(facts: Mapping[str, Sequence[Mapping[str, object]]]) -> dict[str, list[dict[str, object]]]:
    return {t: [{k: _wire(v) if type(v) is Decimal else v for k, v in f.items()} for f in fs]
            for t, fs in facts.items()}


def fact_ref(fact_type: str, index: int) -> str:
    return f"{fact_type}[{index}]"


def parse_ref(ref: str) -> tuple[str, int]:
    match = _REF.fullmatch(ref)
    if not match:
        raise ValueError(f"not a fact reference: {ref!r}")
    return match.group(1), int(match.group(2))


# -- helpers for the services that build facts ------------------------------------------------

def days_to_expiry(expires_on: dt.date | None, *, today: dt.date) -> int | None:
    return None if expires_on is None else (expires_on - today).days


def days_since(day: dt.date, *, today: dt.date) -> int:
    return (today - day).days


def clock_skew_seconds(device_time: dt.datetime, server_time: dt.datetime) -> Decimal:
    return seconds_between(server_time, device_time)


def age_hours(since: dt.datetime, *, now: dt.datetime) -> Decimal:
    return (seconds_between(since, now) / 3600).quantize(Decimal("0.001"))


# -- conversions ----------------------------------------------------------------------------

def _plain(value: object) -> Any:  # a set's members are of one plain type, which sorts
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, dt.datetime):
        raise FactError("a datetime is not a fact value: pass a date, or a number of days/hours")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(repr(value))  # the float's shortest text, not its binary expansion
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _checked(fact_type: str, field: Field, value: object) -> object:
    where = f"{fact_type}.{field.name}"
    if field.type == STRING_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FactError(f"{where} must be a list of strings, got {value!r}")
        return value
    if field.type in (NUMBER, INTEGER):
        return _number(where, field, value)
    if field.type == BOOLEAN and not isinstance(value, bool):
        raise FactError(f"{where} must be true or false, got {value!r}")
    if field.type in (STRING, DATE) and not isinstance(value, str):
        raise FactError(f"{where} must be text, got {value!r}")
    if field.type == DATE and isinstance(value, str):  # not text: refused just above
        _iso_date(where, value)
    if field.choices and value not in field.choices:
        raise FactError(f"{where} must be one of {list(field.choices)}, got {value!r}")
    return value


def _number(where: str, field: Field, value: object) -> int | Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise FactError(f"{where} must be a number, got {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise FactError(f"{where} must be finite, got {value!r}")
    if field.type == INTEGER:
        if value != int(value):
            raise FactError(f"{where} must be a whole number, got {value!r}")
        return int(value)
    return Decimal(value)


def _iso_date(where: str, value: str) -> None:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise FactError(f"{where} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def decimal_text(value: int | Decimal) -> str:
    """Canonical text of a number: no exponent, no trailing zeros, no minus zero."""
    text = str(value)
    if "E" in text or "e" in text:
        text = format(Decimal(value).normalize(), "f")
    elif "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "0") else text


# Equal numbers have one text (that is the point of it), so the text can be cached by value: every
# decision hashes its input, and the same quantities recur (issue 12).
_cached_decimal_text = functools.lru_cache(maxsize=4096)(decimal_text)


class _NotFinite(ValueError):
    pass


@functools.lru_cache(maxsize=4096)
def _decimal_json(value: Decimal | int) -> str:
    """What canonical_json writes for a number field: its text, as a JSON string."""
    if isinstance(value, Decimal) and not value.is_finite():
        raise _NotFinite(value)  # never cached
    return '"' + decimal_text(value) + '"'  # digits, a point, a minus: nothing to escape



def _wire(value: Decimal) -> int | float:
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    return float(value)


# Per fact type, field and type of value: its writer (_build_written); after the writers it names.
_WRITERS_OF = {name: {f: _writers(field, key) for f, (field, key, _) in shapes.items()}
               for name, shapes in _SHAPES.items()}
