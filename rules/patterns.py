"""durable-rules' ``$mt``/``$imt`` pattern dialect, translated to Python ``re`` (SPEC §6).

The dialect was read from durable-rules 2.0.28's ``regex.c`` and checked empirically
(tests/rules/test_patterns.py runs every case on both): a whole-string match (anchored) of a
regular expression with ``|``, ``( )``, ``* + ?``, ``{n}``/``{n,m}``/``{n,}``, ``.``, ``[...]``/``[^...]``
and ``%`` escapes — ``%a %d %g %l %p %s %u %w %x`` classes, ``%.`` etc. for punctuation. ``^``, ``$``,
``-`` and ``\\`` are plain characters; ``%D``, ``%S`` and a lone ``%`` are errors; ``%c`` is
refused (its class is defined with a NUL byte in regex.c, so it cannot work).
``$imt`` lower-cases ASCII letters only (C ``tolower``).
durable matches the *JSON-escaped* text of both pattern and value (its parser does not unescape),
which only matters for quotes, backslashes and control characters; we mirror that.
"""
from __future__ import annotations

import functools
import json
import re

_PUNCTUATION = frozenset(".|?*+()[]{}%")
_QUANTIFIERS = frozenset("*+?{")
_MAX_INTERVAL = 100


def _ranges(*spans: str) -> tuple[tuple[int, int], ...]:
    return tuple((ord(s[0]), ord(s[-1])) for s in spans)


_CLASSES = {
    "a": _ranges("AZ", "az", "\xc0\xd6", "\xd8\xf6", "\xf8\xff"),
    "d": _ranges("09"),
    "g": _ranges("\x21\x7e"),
    "l": _ranges("az", "\xdf\xf6", "\xf8\xff"),
    "p": _ranges(".", ",", ";", ":", "?", "!", "'", '"', "(", ")", "\xa1", "\xbf", "-"),
    "s": _ranges("\x09\x0d", " "),
    "u": _ranges("AZ", "\xc0\xd6", "\xd8\xde"),
    "w": _ranges("AZ", "az", "09"),
    "x": _ranges("09", "AF", "af"),
}


class PatternError(ValueError):
    """A pattern durable-rules would refuse, or would read differently from how it looks."""


def durable_text(text: str) -> str:
    """The text durable-rules actually matches: the JSON-escaped form."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return compile_pattern(pattern, ignore_case).fullmatch(durable_text(value)) is not None


@functools.lru_cache(maxsize=2048)
def compile_pattern(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if ignore_case else 0)
    try:
        return re.compile(translate(durable_text(pattern)), flags)
    except re.error as error:
        raise PatternError(f"invalid pattern {pattern!r}: {error}") from None


def translate(pattern: str) -> str:
    """Python regex equivalent of a durable-rules pattern (already in durable's escaped text)."""
    if not pattern:
        raise PatternError("empty pattern")
    out: list[str] = []
    previous, i = "start", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch in _QUANTIFIERS:
            if previous in ("start", "(", "|", "quantifier"):
                raise PatternError(f"'{ch}' at {i} repeats nothing (write (x*)+ to repeat a repeat)")
            piece, i, previous = *_quantifier(pattern, i), "quantifier"
        elif ch == "%":
            piece, i, previous = _class_text(_escape(pattern, i)), i + 2, "atom"
        elif ch == "[":
            piece, i, previous = *_bracket(pattern, i), "atom"
        elif ch in "|(":
            piece, i, previous = ch, i + 1, ch
        elif ch in ").":
            piece, i, previous = ch, i + 1, "atom"
        else:
            piece, i, previous = re.escape(ch), i + 1, "atom"
        out.append(piece)
    return "".join(out)


def _quantifier(pattern: str, i: int) -> tuple[str, int]:
    if pattern[i] != "{":
        return pattern[i], i + 1
    end = pattern.find("}", i)
    match = re.fullmatch(r"(\d+)(,(\d*))?", pattern[i + 1:end]) if end > 0 else None
    if not match:
        raise PatternError(f"interval at {i} must be {{n}}, {{n,m}} or {{n,}}")
    low = int(match.group(1))
    if match.group(2) is None:
        high: int | None = low
    else:
        high = int(match.group(3)) if match.group(3) else None
    if low > _MAX_INTERVAL or high is not None and not (1 <= high <= _MAX_INTERVAL and low <= high):
        raise PatternError(f"interval at {i} must satisfy n ≤ m, 1 ≤ m ≤ {_MAX_INTERVAL}")
    return pattern[i:end + 1], end + 1


def _escape(pattern: str, i: int) -> tuple[tuple[int, int], ...] | str:
    """The set of a class escape (``%d``), or the literal character of a punctuation escape."""
    nxt = pattern[i + 1:i + 2]
    if nxt in _CLASSES:
        return _CLASSES[nxt]
    if nxt and nxt in _PUNCTUATION:
        return nxt
    raise PatternError(f"'%{nxt}' at {i} is not a supported escape")


def _class_text(escaped: tuple[tuple[int, int], ...] | str, negated: bool = False) -> str:
    if isinstance(escaped, str):
        return re.escape(escaped)
    body = "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in escaped)
    return f"[{'^' if negated else ''}{body}]"


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """``[...]`` as durable reads it (regex.c readRange)."""
    i += 1
    negated = pattern[i:i + 1] == "^"
    i += negated
    if pattern[i:i + 1] == "]":
        raise PatternError(f"empty [] at {i}: write %] for a literal ]")
    members: list[tuple[int, int]] = []
    last, dash = None, False
    while True:
        if i >= len(pattern):
            raise PatternError("unterminated [")
        ch = pattern[i]
        if ch == "]":
            break
        if dash:
            if last is None:
                raise PatternError(f"range at {i} has no start")
            members.append((min(last, ord(ch)), max(last, ord(ch))))
            dash, i = False, i + 1
        elif ch == "-":
            dash, i = True, i + 1
        elif ch == "%":
            members, last, i = _bracket_escape(pattern, i, members), None, i + 2
        else:
            members.append((ord(ch), ord(ch)))
            last, i = ord(ch), i + 1
    if dash:
        members.append((ord("-"), ord("-")))
    return _class_text(tuple(members), negated), i + 1


def _bracket_escape(pattern: str, i: int, members: list[tuple[int, int]]) -> list[tuple[int, int]]:
    escaped = _escape(pattern, i)
    if isinstance(escaped, str):
        return members + [(ord(escaped), ord(escaped))]
    if members:
        # durable resets the set at a class escape, silently dropping what came before it
        raise PatternError(f"put %{pattern[i + 1]} first inside [...]: durable-rules drops the "
                           f"characters listed before it")
    return list(escaped)
