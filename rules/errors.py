"""Problems with rule sets, as values that name the rule (or test) they are about."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentError:
    message: str
    rule_id: str | None = None
    test: str | None = None

    def __str__(self) -> str:
        where = f"rule '{self.rule_id}': " if self.rule_id else ""
        return where + (f"test '{self.test}': " if self.test else "") + self.message


class InvalidDocument(ValueError):
    def __init__(self, errors: list[DocumentError]):
        super().__init__("; ".join(map(str, errors)))
        self.errors = tuple(errors)


class RuleSetCompileError(RuntimeError):
    """durable-rules refused a rule set that passed the document checks."""

    def __init__(self, message: str, errors: tuple[DocumentError, ...] = ()):
        super().__init__(message + "".join(f"; {e}" for e in errors))
        self.errors = errors


class RuleSetConflict(ValueError):
    """The same (rule set id, version) was offered with a different document: versions are immutable."""
