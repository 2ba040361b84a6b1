"""Expected failures are data: each carries a stable code that clients branch on."""
from __future__ import annotations


class DomainError(Exception):
    """A refused command. Nothing it touched is committed."""

    def __init__(self, code: str, message: str, field: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class NotFound(DomainError):
    """Also what another site's object looks like: existence is not disclosed across sites."""

    def __init__(self, what: str, field: list[str] | None = None):
        super().__init__("NOT_FOUND", f"{what} not found", field)


class ManyErrors(DomainError):
    """Several independent problems found in one validation pass, reported together."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(errors[0].code, "; ".join(e.message for e in errors), errors[0].field)
        self.errors = errors
