"""Field permissions: every Query, Mutation and Subscription field declares the scope it needs.

Default deny is enforced by a test that walks the schema and by `assert_every_root_field_guarded`,
which the app factory calls at start-up, so a new field cannot ship unprotected.
"""
from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types.base import get_object_definition

from api.input_door import InputDoor

FORBIDDEN = {"code": "FORBIDDEN"}


@cache
def requires(*scopes: str) -> type[BasePermission]:
    """A permission class granting the field to a principal holding any of `scopes`."""

    class ScopePermission(BasePermission):
        message = f"forbidden: needs scope {' or '.join(scopes)}"
        error_extensions = FORBIDDEN
        required_scopes = scopes

        def has_permission(self, source: Any, info: strawberry.Info, **kwargs) -> bool:
            principal = getattr(info.context, "principal", None)
            return principal is not None and any(principal.has_scope(s) for s in scopes)

    ScopePermission.__name__ = ScopePermission.__qualname__ = "Requires_" + "_or_".join(
        s.replace(":", "_") for s in scopes)
    return ScopePermission


def guarded(*scopes: str) -> dict:
    """Keyword arguments for strawberry.field / strawberry.mutation: the scope first, then the input door."""
    return {"permission_classes": [requires(*scopes)], "extensions": [InputDoor()]}


def unguarded_root_fields(schema: strawberry.Schema) -> list[str]:
    missing = []
    for root in (schema.query, schema.mutation, schema.subscription):
        if root is None:
            continue
        definition = get_object_definition(root, strict=True)
        for f in definition.fields:
            if not f.permission_classes:
                missing.append(f"{definition.name}.{f.python_name}")
    return missing


def assert_every_root_field_guarded(schema: strawberry.Schema) -> None:
    missing = unguarded_root_fields(schema)
    if missing:
        raise RuntimeError(f"root fields without a permission: {', '.join(missing)}")
