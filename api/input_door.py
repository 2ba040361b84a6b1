"""The door every guarded field's arguments pass before its resolver runs.

It walks the converted arguments along their declared types and refuses, with coded user errors and
before any service or database sees them: text over its limit (`api/input_limits.py`) or holding
control characters, decimals outside the wire grammar (`backflush/core/quantity.py`), dates and times that
are not ones, or carry no UTC offset, or lie outside a sane window. A field whose payload has
`userErrors` answers with them; any other field gets a GraphQL error coded BAD_USER_INPUT.
"""
from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition, has_object_definition
from strawberry.utils.str_converters import to_camel_case

from api.errors import user_errors
from api.input_limits import ID, JSON_TEXT, text_limit
from backflush.core.quantity import InvalidQuantity, parse_wire_decimal
from kernel import input_rules
from kernel.errors import DomainError

MAX_JSON_DEPTH = 32


def refusals(field, kwargs: dict[str, Any]) -> list[DomainError]:
    errors: list[DomainError] = []
    for argument in field.arguments:
        name = argument.graphql_name or to_camel_case(argument.python_name)
        _check(argument.type, kwargs.get(argument.python_name), [name], owner=field.python_name, name=name,
               errors=errors)
    return errors


def _check(kind, value, path: list[str], *, owner: str, name: str, errors: list[DomainError]) -> None:
    if value is None or value is strawberry.UNSET:
        return
    if isinstance(kind, StrawberryOptional):
        return _check(kind.of_type, value, path, owner=owner, name=name, errors=errors)
    if isinstance(kind, StrawberryList):
        for index, item in enumerate(value):
            _check(kind.of_type, item, [*path, str(index)], owner=owner, name=name, errors=errors)
        return
    if has_object_definition(kind):
        definition = kind.__strawberry_definition__
        for f in definition.fields:
            child = f.graphql_name or to_camel_case(f.python_name)
            _check(f.type, getattr(value, f.python_name), [*path, child], owner=definition.name, name=child,
                   errors=errors)
        return
    if error := _scalar_refusal(kind, value, path, owner=owner, name=name):
        errors.append(error)


def _scalar_refusal(kind, value, path: list[str], *, owner: str, name: str) -> DomainError | None:
    if kind is Decimal:
        try:
            parse_wire_decimal(value)
        except InvalidQuantity as error:
            return DomainError(error.code, f"{name}: {error}", path)
        return None
    if kind is dt.datetime:
        return input_rules.datetime_refusal(value, path)
    if kind is dt.date:
        return input_rules.date_refusal(value, path)
    if kind is strawberry.ID:
        return _text(value, ID, path)
    if kind is str:
        return _text(value, text_limit(owner, name), path)
    if kind is JSON:
        return _json_refusal(value, path, depth=0)
    return None  # Int, Boolean and enums: graphql-core has already held them to their types


def _text(value, limit, path: list[str]) -> DomainError | None:
    if not isinstance(value, str):  # graphql-core coerces String and ID: defence in depth only
        return DomainError("INVALID_TEXT", "not a string", path)
    return input_rules.text_refusal(value, max_length=limit.max_length, multiline=limit.multiline, field=path)


def _json_refusal(value, path: list[str], *, depth: int) -> DomainError | None:
    """Every string in a JSON value (keys included) is text like any other."""
    if depth > MAX_JSON_DEPTH:
        return DomainError("TOO_DEEP", f"nested more than {MAX_JSON_DEPTH} levels", path)
    if isinstance(value, str):
        return _text(value, JSON_TEXT, path)
    if isinstance(value, dict):
        children = [(str(k), k) for k in value] + [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        children = [(str(i), v) for i, v in enumerate(value)]
    else:
        return None
    for key, child in children:
        if error := _json_refusal(child, [*path, key], depth=depth + 1):
            return error
    return None


def _refused(field, errors: list[DomainError]):
    payload = field.type
    definition = get_object_definition(payload)
    if definition is not None and any(f.python_name == "user_errors" for f in definition.fields):
        return payload(user_errors=user_errors(errors))
    first = errors[0]
    raise GraphQLError(first.message, extensions={"code": "BAD_USER_INPUT", "inputCode": first.code,
                                                  "field": first.field})


class InputDoor(FieldExtension):
    """One instance per field (made by `guarded`), shared by all its requests: keeps no request state."""

    def apply(self, field) -> None:
        self.field = field

    def resolve(self, next_, source, info: strawberry.Info, **kwargs):
        errors = refusals(self.field, kwargs)
        return _refused(self.field, errors) if errors else next_(source, info, **kwargs)

    async def resolve_async(self, next_, source, info: strawberry.Info, **kwargs):
        errors = refusals(self.field, kwargs)
        if errors:
            return _refused(self.field, errors)
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result  # a subscription's generator as it is
