"""The cost budget: a validation rule strawberry does not ship.

A field costs 1 plus the cost of its selection; a list field taking `first` costs `first` times that
(the default `first` when the client leaves it out), so nesting connections multiplies, as the rows
they fetch do. A document costs as much as its most expensive operation. The count runs before
anything is resolved, so a refused query has cost the server nothing but its parse.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.type.definition import GraphQLNamedType

from api.limit_codes import LimitCode

PAGE_ARGUMENT = "first"


def query_cost(schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], *,
               default_first: int, ceiling: int) -> int:
    """The cost of the document's most expensive operation, counted no higher than `ceiling`."""
    counter = _Counter(schema, document, variables, default_first=default_first, ceiling=ceiling)
    costs = [counter.operation(definition) for definition in document.definitions
             if isinstance(definition, OperationDefinitionNode)]
    return max(costs, default=0)


def cost_error(schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], *, budget: int,
               default_first: int) -> GraphQLError | None:
    """QUERY_TOO_COMPLEX when the document costs more than `budget` (`first` may come from the variables)."""
    cost = query_cost(schema, document, variables, default_first=default_first, ceiling=budget * 1000)
    if cost <= budget:
        return None
    return GraphQLError(f"query cost {cost} exceeds the budget of {budget}: a field costs 1 plus its selection, "
                        f"a list field `first` times that (default first: {default_first})",
                        extensions={"code": LimitCode.QUERY_TOO_COMPLEX.value, "cost": cost, "budget": budget})


class _Counter:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], *,
                 default_first: int, ceiling: int):
        self.schema, self.variables = schema, variables
        self.default_first, self.ceiling = default_first, ceiling
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.fragment_costs: dict[str, int] = {}  # a fragment costs the same wherever it is spread

    def operation(self, node: OperationDefinitionNode) -> int:
        return self.selection(node.selection_set, self.schema.get_root_type(node.operation))

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> int:
        total = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                total += self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                total += self.selection(node.selection_set, self.condition(node, parent))
            elif isinstance(node, FragmentSpreadNode):
                total += self.fragment(node.name.value)
            if total > self.ceiling:
                return self.ceiling  # enough to refuse; counting on would only cost us
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        child_type = get_named_type(definition.type) if definition else None
        cost = 1 + self.selection(node.selection_set, child_type)
        if definition is not None and PAGE_ARGUMENT in definition.args:
            cost *= self.page_size(node)
        return min(cost, self.ceiling)

    def page_size(self, node: FieldNode) -> int:
        value: object = next((argument.value for argument in node.arguments or ()
                              if argument.name.value == PAGE_ARGUMENT), None)
        if isinstance(value, VariableNode):
            value = (self.variables or {}).get(value.name.value)
        elif isinstance(value, IntValueNode):
            value = int(value.value)
        return max(1, value) if isinstance(value, int) else self.default_first

    def fragment(self, name: str) -> int:
        if name not in self.fragment_costs:
            definition = self.fragments.get(name)
            self.fragment_costs[name] = 0  # a cycle is refused by NoFragmentCycles; here it costs nothing more
            self.fragment_costs[name] = self.selection(definition.selection_set, self.condition(definition, None)) \
                if definition else 0
        return self.fragment_costs[name]

    def condition(self, node: InlineFragmentNode | FragmentDefinitionNode, parent: GraphQLNamedType | None):
        condition = node.type_condition
        return self.schema.get_type(condition.name.value) if condition else parent

