"""The walls: every field below the roots checks its scope, every object resolved checks its site.

One schema extension enforces `api/access.py` where data is resolved, so no path (`node(id:)`, nested
fields, connections, genealogy edges, mutation payloads, subscriptions) can read around a root field's
guard. The per-field check is a dictionary look-up and a set test; the site of an object comes from the
object itself (`SITE_OF`), and the caller's site ids are read once per request, only for callers bound
to some sites and only when an object of a sited type is resolved.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
)
from strawberry.extensions import SchemaExtension

from api.access import SITE_OF, field_grants
from api.context import Context

FORBIDDEN, NOT_FOUND = {"code": "FORBIDDEN"}, {"code": "NOT_FOUND"}
ROOTS = ("Query", "Mutation", "Subscription")


@dataclass(frozen=True)
class Rule:
    grant: frozenset[str]  # empty: no scope check below the root field's guard
    sited: bool  # the field can return objects of a sited type, which must be of the caller's sites
    nullable: bool  # an invisible object reads as null here; under a non-null field it is NOT_FOUND


def _unwrap(graphql_type):
    nullable = not isinstance(graphql_type, GraphQLNonNull)
    while isinstance(graphql_type, (GraphQLNonNull, GraphQLList)):
        graphql_type = graphql_type.of_type
    return graphql_type, nullable


def _possible_names(schema: GraphQLSchema, graphql_type) -> set[str]:
    if isinstance(graphql_type, (GraphQLInterfaceType, GraphQLUnionType)):
        return {t.name for t in schema.get_possible_types(graphql_type)}
    return {graphql_type.name}


def object_types(schema: GraphQLSchema) -> dict[str, GraphQLObjectType]:
    """Every output object type but the roots and introspection's own."""
    return {name: t for name, t in schema.type_map.items()
            if isinstance(t, GraphQLObjectType) and not name.startswith("__") and name not in ROOTS}


def unlisted_fields(schema: GraphQLSchema) -> list[str]:
    """Fields of the schema without an entry in `api/access.py`, and entries naming no field."""
    grants = field_grants()
    served = {(name, field) for name, t in object_types(schema).items() for field in t.fields}
    return ([f"{t}.{f} has no entry in api/access.py" for t, f in sorted(served - set(grants))]
            + [f"api/access.py lists {t}.{f}, which the schema does not serve" for t, f in sorted(set(grants) - served)])


def plan(schema: GraphQLSchema) -> dict[tuple[str, str], Rule]:
    """The rule of every field (roots included, for the site check), or an error naming what is unlisted."""
    problems = unlisted_fields(schema)
    if problems:
        raise RuntimeError("; ".join(problems))
    grants = field_grants()
    rules = {}
    for name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or name.startswith("__"):
            continue
        for field_name, field in graphql_type.fields.items():
            target, nullable = _unwrap(field.type)
            sited = hasattr(target, "fields") and bool(_possible_names(schema, target) & set(SITE_OF))
            rule = Rule(grant=grants.get((name, field_name), frozenset()), sited=sited, nullable=nullable)
            if rule.grant or rule.sited:
                rules[(name, field_name)] = rule
    return rules


class Walls(SchemaExtension):
    def __init__(self, rules: dict[tuple[str, str], Rule], *, execution_context=None):
        self.rules = rules

    def resolve(self, _next, root, info, *args, **kwargs) -> Any:
        rule = self.rules.get((info.parent_type.name, info.field_name))
        if rule is None:
            return _next(root, info, *args, **kwargs)
        principal = info.context.principal
        if rule.grant and not any(principal.has_scope(scope) for scope in rule.grant):
            raise GraphQLError(f"forbidden: {info.parent_type.name}.{info.field_name} needs scope "
                               f"{' or '.join(sorted(rule.grant))}", extensions=FORBIDDEN)
        result = _next(root, info, *args, **kwargs)
        if not rule.sited or "*" in principal.sites:
            return result
        return _within_sites(result, info, rule.nullable)


def _within_sites(result, info, nullable: bool):
    known = info.context.site_ids
    if known is not None and not isawaitable(result):
        return keep_visible(result, known, nullable)

    async def checked():
        value = await result if isawaitable(result) else result
        return keep_visible(value, await _visible_site_ids(info.context), nullable)
    return checked()


async def _visible_site_ids(context: Context) -> frozenset[int]:
    """The ids of the caller's sites, read once per request."""
    if context.site_ids is not None:
        return context.site_ids
    if context.site_ids_read is None:
        from backflush.reads.records import visible_site_ids
        context.site_ids_read = asyncio.ensure_future(
            context.read(lambda s: frozenset(visible_site_ids(s, context.principal) or ())))  # None (every site) never gets here
    context.site_ids = await context.site_ids_read
    return context.site_ids


def _site_of(value) -> tuple[bool, int | None]:
    definition = getattr(type(value), "__strawberry_definition__", None)
    attribute = SITE_OF.get(definition.name) if definition else None
    return (False, None) if attribute is None else (True, getattr(value, attribute))


def visible(value, site_ids: frozenset[int]) -> bool:
    """Whether `value` may be shown to a caller of `site_ids`: it has no site, or one of them."""
    sited, site = _site_of(value)
    return not sited or site is None or site in site_ids


def keep_visible(value, site_ids: frozenset[int], nullable: bool):
    """`value` without what lies outside `site_ids`: filtered from a list, None when nullable, else NOT_FOUND."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [item for item in value if item is None or visible(item, site_ids)]
    if visible(value, site_ids):
        return value
    if nullable:
        return None
    raise GraphQLError("not found", extensions=NOT_FOUND)
