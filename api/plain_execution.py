"""Completing plain object subtrees in one pass (issue 12: a 1,000-lot genealogy tree is ~11,000 fields).

graphql-core completes every field alike: a resolve-info object, a resolver call through strawberry's
wrapper, an awaitable check, null and error bookkeeping — some 10 µs a field. Most of a big payload
needs none of it: attributes of objects already shaped in memory (strawberry's basic fields) and
synchronous, argument-free methods without guards (`Node.id`). For a selection made only of those, this
execution context reads the values directly, coercing leaves as graphql-core does.

It never decides anything differently: on the first thing it does not handle (a null where the schema
says non-null, a resolver that raises, an abstract type, a field with a guard, arguments, async, a
middleware other than the walls, a field the walls would refuse or filter by site, a @defer) it leaves the object to graphql-core, which then produces the result or error it
always would. Getters are side-effect free, so reading a value twice is harmless.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from api.walls import Walls, keep_visible

BACKREF = "strawberry-definition"  # where strawberry keeps a GraphQL field's StrawberryField
LEAF, OBJECT, LIST, TYPENAME, TEXT, INT = range(6)
# Leaves whose coercion hands a value of one exact Python type back unchanged (graphql-core's serialize_string,
# serialize_id, serialize_int within 32 bits): such a value is taken as it is; any other goes through coercion.
PASSING = {GraphQLString.name: TEXT, GraphQLID.name: TEXT, GraphQLInt.name: INT}
LEAVES = frozenset({LEAF, TEXT, INT})
SITED = 6  # (SITED, False, (SiteFilter, shape)): the walls' site filter before the value's own shape
PASS = object()  # the walls hand a field's value through unchanged


class SiteFilter(NamedTuple):
    """The walls' site check of a field (api/walls.py `keep_visible`): objects of other sites leave a list,
    and read as null where the field may be null; under a non-null field graphql-core and the walls report
    NOT_FOUND."""
    site_ids: frozenset[int]
    nullable: bool


class _NotPlain(Exception):
    """Hand this object back to graphql-core."""


class PlainSubtreeExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple, tuple] = {}
        self._walls: tuple[Walls, ...] = ()

    def complete_object_value(self, return_type, field_details_list, info, path, result, position_context):
        middlewares = self.middleware_manager.middlewares if self.middleware_manager is not None else ()
        # The walls (api/walls.py) are the one middleware it knows: their rule for each field is applied
        # when the plan is made (below); any other middleware leaves everything to graphql-core.
        if all(isinstance(middleware, Walls) for middleware in middlewares):
            self._walls = tuple(middlewares)
            plan = self._plan(return_type, field_details_list)
            if plan is not None:
                try:
                    return _complete(plan, result, info)
                except _NotPlain:
                    pass
        return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)

    def build_response(self, data):
        # graphql-core's executor is held in reference cycles (its bound methods), so whatever it holds waits for
        # a collection. The plans hold every object the payload was made of (their memos); the middleware, the walls,
        # hold strawberry's execution context, which holds the result: the whole payload. Let go of both, so the
        # answer's objects die with the response instead of surviving into the collector's older generations (1,000
        # edges' dicts were traversed by every collection until a full one). A subscription's events run in copies
        # of its executor, which keep their own reference to the middleware.
        self._plans.clear()
        response = super().build_response(data)
        self.middleware_manager, self._walls = None, ()
        return response

    def _plan(self, return_type: GraphQLObjectType, field_details_list) -> Plan | None:
        """The plan of a selection of plain fields only, else None; memoized like collect_subfields."""
        key = (return_type, id(field_details_list))
        if key not in self._plans:
            self._plans[key] = (field_details_list, self._make_plan(return_type, field_details_list))
        return self._plans[key][1]

    def _make_plan(self, return_type: GraphQLObjectType, field_details_list) -> Plan | None:
        grouped, defer_usages, *_ = self.collect_subfields(return_type, field_details_list)
        if defer_usages:
            return None
        steps: list[tuple[str, Any, int, bool, Any]] = []
        for response_key, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                steps.append((response_key, None, TYPENAME, True, return_type.name))
                continue
            field_def = return_type.fields.get(name)
            wall = self._wall(return_type.name, name)
            if wall is None:
                return None
            getter = _getter(field_def) if field_def is not None and not field_def.args else None
            shape = self._shape(field_def.type, details) if getter is not None else None
            if shape is None:
                return None
            if wall is not PASS:  # the walls' site filter, then the value's own shape
                shape = (SITED, False, (wall, shape))
            steps.append((response_key, getter, *shape))
        return Plan(return_type, tuple(steps))

    def _wall(self, type_name: str, field_name: str) -> SiteFilter | object | None:
        """What the walls would do to the field's value: PASS where they hand it through unchanged (no rule, or
        its scope held and the caller sees every site); a SiteFilter where they keep only the objects of the
        caller's sites and those ids are already known (api/walls.py applies the same filter); None where
        graphql-core and the walls must decide (a scope not held, site ids not read yet)."""
        principal = getattr(self.context_value, "principal", None)
        wall: SiteFilter | object = PASS
        for walls in self._walls:
            rule = walls.rules.get((type_name, field_name))
            if rule is None:
                continue
            if principal is None:
                return None
            if rule.grant and not any(principal.has_scope(scope) for scope in rule.grant):
                return None
            if rule.sited and "*" not in principal.sites:
                site_ids = getattr(self.context_value, "site_ids", None)
                if site_ids is None or wall is not PASS:
                    return None
                wall = SiteFilter(site_ids, rule.nullable)
        return wall

    def _shape(self, graphql_type, details, non_null: bool = False) -> tuple | None:
        if isinstance(graphql_type, GraphQLNonNull):
            return self._shape(graphql_type.of_type, details, True)
        if isinstance(graphql_type, GraphQLList):
            item = self._shape(graphql_type.of_type, details)
            return None if item is None else (LIST, non_null, item)
        if is_leaf_type(graphql_type):
            kind = PASSING.get(graphql_type.name, LEAF) if graphql_type in _BUILT_IN else LEAF
            return kind, non_null, graphql_type.coerce_output_value
        if isinstance(graphql_type, GraphQLObjectType):
            plan = self._plan(graphql_type, details)
            return None if plan is None else (OBJECT, non_null, plan)
        return None  # interfaces and unions: graphql-core resolves the runtime type


_BUILT_IN = (GraphQLString, GraphQLID, GraphQLInt)


def _getter(field_def) -> Callable[[Any], Any] | None:
    """How the field's value is read without graphql-core, or None; found once per field of a schema (reading a
    resolver's signature cost a tenth of a 1,000-lot tree's completion when done per request)."""
    known = _GETTERS.get(id(field_def))
    if known is None or known[0] is not field_def:
        known = _GETTERS[id(field_def)] = (field_def, _find_getter(field_def))
    return known[1]


# id(field) -> (field, getter): GraphQL fields are not hashable; keeping the field keeps its id its own
_GETTERS: dict[int, tuple[Any, Callable[[Any], Any] | None]] = {}


def _find_getter(field_def) -> Callable[[Any], Any] | None:
    field = field_def.extensions.get(BACKREF) if field_def.extensions else None
    if field is None or field.permission_classes or field.extensions:
        return None
    if getattr(field_def.resolve, "_is_default", False):  # a basic field: strawberry reads the attribute
        return attrgetter(field.python_name) if field.default_resolver is getattr else None
    resolver = field.base_resolver
    if resolver is None or resolver.is_async or resolver.arguments:
        return None
    function = resolver.wrapped_func
    if isinstance(function, (staticmethod, classmethod)) or len(inspect.signature(function).parameters) != 1:
        return None  # only `def field(self)`: no info, no root, no arguments
    return function


class Plan:
    """How one selection on one object type is completed, and what this request has completed with it: an
    object met again under the same selection (a lot in many edges) reuses its completed value, and an object's
    Python type, once found to fit the GraphQL type, is not asked again. A plan lives as long as its execution
    (one request); the sources are kept, so their ids stay theirs."""

    __slots__ = ("return_type", "steps", "make", "completed", "kept", "fitting")

    def __init__(self, return_type: GraphQLObjectType, steps: tuple[tuple[str, Any, int, bool, Any], ...]) -> None:
        self.return_type, self.steps = return_type, steps  # steps: (response key, getter, *shape)
        self.make = _dict_maker(tuple(step[0] for step in steps))
        self.completed: dict[int, dict[str, Any]] = {}  # id(source) -> its completed value
        self.kept: list[Any] = []  # every source of `completed`, alive until the plan goes
        self.fitting: set[type] = set()


MAKERS = 512  # response keys are the client's aliases: the makers kept are bounded, like the parse cache


@lru_cache(maxsize=MAKERS)
def _dict_maker(keys: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """`lambda v0, v1, …: {keys[0]: v0, keys[1]: v1, …}`: the completed value of one object from its fields' values,
    a third of the cost of dict(zip(keys, values)), which a big answer pays once per object. The source text holds
    only argument names and indexes, never a key."""
    names = [f"v{n}" for n in range(len(keys))]
    pairs = ", ".join(f"K[{n}]: {name}" for n, name in enumerate(names))
    return eval(f"lambda {', '.join(names)}: {{{pairs}}}", {"K": keys})  # noqa: S307 — text built above, no input


class _Null(_NotPlain):
    """A null or an error among the objects given to _complete_all: they go one at a time instead."""


def _complete(plan: Plan, source: Any, info) -> dict[str, Any]:
    return _complete_all(plan, [source], info)[0]


def _complete_all(plan: Plan, sources: list[Any], info) -> list[dict[str, Any]]:
    """The completed value of each of `sources` (objects; _Null if one is not), made a field at a time over all the
    objects not completed yet: a list of a thousand edges costs one loop per field instead of one pass through
    every field per edge, and the objects in its fields (each edge's lots) are completed together in turn."""
    completed, fitting = plan.completed, plan.fitting
    fresh: dict[int, Any] = {}
    for source in sources:
        key = id(source)
        if key in completed or key in fresh:
            continue
        if type(source) not in fitting or getattr(source, TYPE_CAST_ATTRIBUTE, None) is not None:
            if source is None or isinstance(source, Exception):  # never a fitting type: met here only
                raise _Null
            _check_fits(plan, source, info)
        fresh[key] = source
    if not fresh:
        return [completed[id(source)] for source in sources]
    todo = list(fresh.values())
    columns = [_column(step, todo, info) for step in plan.steps]
    made = list(map(plan.make, *columns)) if columns else [{} for _ in todo]  # every field skipped: {}
    completed.update(zip(fresh, made, strict=True))
    plan.kept += todo
    if len(todo) == len(sources):  # every source new and met once: `made` is in their order
        return made
    return [completed[id(source)] for source in sources]


def _column(step: tuple[str, Any, int, bool, Any], sources: list[Any], info) -> list[Any]:
    """One field's completed value for each of `sources`."""
    _response_key, getter, kind, non_null, inner = step
    if getter is None:  # __typename
        return [inner] * len(sources)
    try:
        values = [getter(source) for source in sources]
    except Exception:  # noqa: BLE001 — graphql-core turns it into the field's error
        raise _NotPlain from None
    if kind == OBJECT:
        return _objects(inner, non_null, values, info)
    if kind == TEXT:  # what coercion would give back, else coercion
        return [value if type(value) is str else _value(kind, non_null, inner, value, info) for value in values]
    if kind == INT:
        return [value if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
                else _value(kind, non_null, inner, value, info) for value in values]
    if kind == LEAF and all(value is not None and not isinstance(value, Exception) for value in values):
        return _leaves(inner, values)
    return [_value(kind, non_null, inner, value, info) for value in values]


def _leaves(serialize: Any, values: list[Any]) -> list[Any]:
    """Leaves (none null) coerced as graphql-core would; what it would report as an error goes back to it."""
    try:
        coerced = [serialize(value) for value in values]
    except Exception:  # noqa: BLE001 — graphql-core reports it at the leaf's own path
        raise _NotPlain from None
    if any(value is None or value is Undefined for value in coerced):
        raise _NotPlain
    return coerced


def _objects(plan: Plan, non_null: bool, values: list[Any], info) -> list[Any]:
    try:
        return _complete_all(plan, values, info)
    except _Null:
        return [_value(OBJECT, non_null, plan, value, info) for value in values]


def _check_fits(plan: Plan, source: Any, info) -> None:
    """graphql-core's is_type_of check; its answer depends only on the Python type unless the object was cast."""
    is_type_of = plan.return_type.is_type_of
    if is_type_of is None:
        plan.fitting.add(type(source))
        return
    if is_type_of(source, info) is not True:
        raise _NotPlain
    if getattr(source, TYPE_CAST_ATTRIBUTE, None) is None:
        plan.fitting.add(type(source))


def _keep_visible(value: Any, site_ids: frozenset[int], nullable: bool) -> Any:
    try:
        return keep_visible(value, site_ids, nullable)
    except GraphQLError:  # graphql-core and the walls raise NOT_FOUND at the field's path
        raise _NotPlain from None


def _leaf(serialize: Any, value: Any) -> Any:
    return _leaves(serialize, [value])[0]


def _value(kind: int, non_null: bool, inner: Any, value: Any, info) -> Any:
    if value is None:
        if non_null:
            raise _NotPlain
        return None
    if isinstance(value, Exception):
        raise _NotPlain
    if kind == SITED:
        site_filter, (own_kind, own_non_null, own_inner) = inner
        return _value(own_kind, own_non_null, own_inner, _keep_visible(value, *site_filter), info)
    if kind in LEAVES:
        return _leaf(inner, value)
    if kind == OBJECT:
        return _complete(inner, value, info)
    if not isinstance(value, (list, tuple)):
        raise _NotPlain
    item_kind, item_non_null, item_inner = inner
    if item_kind == OBJECT:  # a list of objects (a tree's edges and lots)
        return _objects(item_inner, item_non_null, list(value), info)
    return [_value(item_kind, item_non_null, item_inner, item, info) for item in value]
