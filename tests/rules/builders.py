"""Builders for rule-set documents in tests: the smallest valid document, changed where it matters."""
from __future__ import annotations

import copy

BLOCK_LAB = {"action": "block", "code": "LAB_DEVICE", "message": "Lab devices cannot post"}


def a_rule(rule_id: str = "lab-devices", *, fact: str = "trigger", when: object = None,
           then: dict | None = None, **extra: object) -> dict:
    rule = {"id": rule_id, "description": "a rule under test", "fact": fact,
            "when": {"$mt": {"device_id": "LAB-.*"}} if when is None else when,
            "then": copy.deepcopy(then or BLOCK_LAB)}
    return {**rule, **extra}


def a_test(name: str = "a lab tablet is blocked", *, facts: dict | None = None,
           expect: list | None = None) -> dict:
    return {"name": name,
            "facts": facts if facts is not None else {"trigger": [{"device_id": "LAB-7"}]},
            "expect": expect if expect is not None else [{"rule": "lab-devices"}]}


def a_document(*rules: dict, tests: list | None = None) -> dict:
    return {"rules": list(rules) or [a_rule()], "tests": tests if tests is not None else [a_test()]}
