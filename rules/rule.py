"""A rule as read from a rule-set document: the facts it matches and the action it takes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pattern:
    fact: str
    when: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    patterns: tuple[Pattern, ...]
    action: str
    params: dict[str, Any]
