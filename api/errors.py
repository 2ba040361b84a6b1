"""User errors on the wire, and the masking of everything unexpected."""
from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from kernel.errors import DomainError

log = logging.getLogger("backflush.api")


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(description='Path to the offending input field, e.g. ["input", "goodQuantity"]')
    message: str
    code: str


def user_errors(errors: list[DomainError]) -> list[UserError]:
    return [UserError(field=e.field, message=e.message, code=e.code) for e in errors]


CLIENT_CODES = frozenset({"FORBIDDEN", "UNAUTHENTICATED", "NOT_FOUND", "BAD_USER_INPUT", "QUERY_TOO_COMPLEX",
                          "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"})


def request_error_code(error: GraphQLError) -> str | None:
    """The code of an error raised before anything was resolved (no path): the document did not parse,
    did not validate, or a variable's value is not of its declared type (an Int past 32 bits, an
    unknown enum value, an object for a String, a required field missing)."""
    if error.path is not None or (error.extensions or {}).get("code"):
        return None
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


class CodedMaskErrors(MaskErrors):
    """Mask what is unexpected, after coding what the client got wrong, so every error has a code."""

    # strawberry's MaskErrors funnels every result's errors through this one method (checked on 0.341);
    # coding them here, rather than in a second extension, keeps the order of the two fixed.
    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        for error in errors:
            if code := request_error_code(error):
                error.extensions = {**(error.extensions or {}), "code": code}
        return super()._process_errors(errors)


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
