"""User errors on the wire, and the masking of everything unexpected."""
from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError

from kernel.errors import DomainError

log = logging.getLogger("backflush.api")


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(description='Path to the offending input field, e.g. ["input", "goodQuantity"]')
    message: str
    code: str


def user_errors(errors: list[DomainError]) -> list[UserError]:
    return [UserError(field=e.field, message=e.message, code=e.code) for e in errors]


CLIENT_CODES = frozenset({"FORBIDDEN", "UNAUTHENTICATED", "NOT_FOUND", "BAD_USER_INPUT", "QUERY_TOO_COMPLEX"})


def should_mask(error: GraphQLError) -> bool:
    """Let the app's own coded errors and GraphQL validation errors through; mask the rest."""
    original = error.original_error
    if original is None:
        return False  # validation and parse errors describe the query, not the server
    code = (error.extensions or {}).get("code")
    if code in CLIENT_CODES:
        return False
    log.error("unexpected error in %s", error.path, exc_info=original)
    return True
