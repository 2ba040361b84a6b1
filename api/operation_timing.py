"""Times each GraphQL query and mutation into backflush_graphql_request_duration_seconds.

The label is the operation's first root field, and only when the schema has it: operation names are
the client's to choose, so labelling by them would let any client grow the metric without bound.
Subscriptions are not timed: they last as long as the client listens.
"""
from __future__ import annotations

import time

from graphql import FieldNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from kernel.instruments import GRAPHQL_SECONDS

INVALID = "(invalid)"
INTROSPECTION = "(introspection)"


class OperationTiming(SchemaExtension):
    def on_operation(self):
        started = time.perf_counter()
        yield
        context = self.execution_context
        operation_type, field = _root_field(context)
        if operation_type == "subscription":
            return
        failed = bool(context.pre_execution_errors) or bool(context.result is not None and context.result.errors)
        GRAPHQL_SECONDS.labels(operation_type=operation_type, operation=field,
                               outcome="error" if failed else "ok").observe(time.perf_counter() - started)


def _root_field(context) -> tuple[str, str]:
    document = context.graphql_document
    definition = get_operation_ast(document, context.operation_name) if document is not None else None
    if definition is None:
        return "unknown", INVALID
    operation_type = definition.operation.value
    schema = context.schema._schema
    root = {"query": schema.query_type, "mutation": schema.mutation_type,
            "subscription": schema.subscription_type}[operation_type]
    first = definition.selection_set.selections[0] if definition.selection_set.selections else None
    if not isinstance(first, FieldNode):
        return operation_type, INVALID
    name = first.name.value
    if name.startswith("__"):
        return operation_type, INTROSPECTION
    return operation_type, name if root is not None and name in root.fields else INVALID
