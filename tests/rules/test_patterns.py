"""$mt / $imt: the reference's reading of durable's pattern dialect, checked against durable itself."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import evaluate, load_ruleset
from rules.patterns import PatternError, compile_pattern, matches

# (pattern, case-insensitive, value, matches) — measured on durable-rules 2.0.28
CASES = [
    ("RM-%d+", False, "RM-12", True), ("RM-%d+", False, "RM-", False), ("RM-%d+", False, "RM-1a", False),
    ("RM-%d+", False, "xRM-1", False), ("LAB-.*", False, "LAB-", True), ("LAB-.*", False, "LAB", False),
    ("%a+", False, "abc", True), ("%a+", False, "ab1", False), ("%a", False, "é", True),
    ("%w+-%d", False, "ab1-2", True), ("a?b", False, "b", True), ("a?b", False, "aab", False),
    ("a-b", False, "ab", False), ("a-b", False, "a-b", True), ("[A-C]%d", False, "A1", True),
    ("[A-C]%d", False, "c1", False), ("[^A-C]%d", False, "D1", True), ("%s*x", False, "  x", True),
    ("%u%l", False, "Ab", True), ("%u%l", False, "ab", False), ("a.c", False, "a.c", True),
    ("a%.c", False, "abc", False), ("QA", False, "qa", False), ("%x+", False, "fg", False),
    ("(ab)+", False, "abab", True), ("a|b", False, "a|b", False), ("ab|cd", False, "cd", True),
    ("a{2}", False, "aa", True), ("a{2,3}", False, "aaaa", False), ("a{2,}", False, "aaaaa", True),
    ("%p", False, "!", True), ("^ab", False, "ab", False), ("^ab", False, "^ab", True),
    ("ab$", False, "ab$", True), (".*", False, "", True), ("[a-]", False, "-", True),
    ("[%d]+", False, "12", True), ("[%d_]+", False, "1_2", True), ("[%.x]", False, ".", True),
    ("[c-a]", False, "b", True), ("a]", False, "a]", True), ("a}", False, "a}", True),
    ("x(ab|cd)*y", False, "xabcdy", True), ("a.b", False, 'a"b', False), ("a..b", False, 'a"b', True),
    ('a"b', False, 'a"b', True), ("a.b", False, "a\nb", False), ("a%.b", False, "a.b", True),
    ("qa%d", True, "QA1", True), ("[a-c]x", True, "BX", True), ("é", True, "É", False),
    ("%u+", True, "abc", True), ("LAB-.*", True, "lab-7", True),
]


@pytest.fixture(scope="module")
def pattern_ruleset():
    rules = [{"id": f"p{i}", "description": f"pattern {pattern}", "fact": "trigger",
              "when": {"$imt" if folded else "$mt": {"device_id": pattern}},
              "then": {"action": "block", "code": "MATCHED", "message": pattern}}
             for i, (pattern, folded, _value, _matches) in enumerate(CASES)]
    document = {"rules": rules, "tests": [{"name": "t", "facts": {}, "expect": []}]}
    return load_ruleset(document, ruleset_id="pattern-cases", version=1, kind="BLOCKING")


def fired_rules(ruleset, value: str, engine: str) -> set[str]:
    return {f.rule_id for f in evaluate(ruleset, {"trigger": [{"device_id": value}]}, engine=engine).fired}


@pytest.mark.parametrize("index, case", list(enumerate(CASES)), ids=[f"{c[0]}~{c[2]!r}" for c in CASES])
def test_a_pattern_matches_the_same_values_on_durable_and_on_the_reference(pattern_ruleset, index, case):
    pattern, folded, value, expected = case
    assert matches(pattern, value, ignore_case=folded) is expected
    assert (f"p{index}" in fired_rules(pattern_ruleset, value, "durable")) is expected


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet='aAbB1 9-_.é"\\|[]%xLABRM', max_size=8))
def test_random_values_match_the_same_patterns_on_both_engines(pattern_ruleset, value):
    assert fired_rules(pattern_ruleset, value, "durable") == fired_rules(pattern_ruleset, value, "python-ref")


@pytest.mark.parametrize("pattern", ["", "%", "%D+", "%S", "[_%d]", "*a", "a**", "{2}", "a{0}", "a{1,101}",
                                     "[]", "[-a]", "[ab", "(ab", "%c"])
def test_patterns_durable_would_refuse_or_misread_are_refused(pattern):
    with pytest.raises(PatternError):
        compile_pattern(pattern)
