"""Wire scalars. Decimals travel as strings; a malformed one reaches the domain, which answers
with a coded user error instead of a GraphQL parse failure (SPEC §4.3: "malformed decimal")."""
from __future__ import annotations

import decimal
from decimal import Decimal

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode

from backflush.core.quantity import to_wire


def _parse_decimal(value):
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except decimal.InvalidOperation:
            return value  # left for the domain to refuse as INVALID_DECIMAL, with its field path
        return parsed if parsed.is_finite() else value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value  # floats included: the domain refuses them


def _parse_literal(node, variables=None):
    if isinstance(node, StringValueNode):
        return _parse_decimal(node.value)
    if isinstance(node, IntValueNode):
        return Decimal(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)  # refused downstream: a float literal is not an exact quantity
    return None


DecimalScalar = strawberry.scalar(
    name="Decimal", description="An exact decimal number, as a string: \"0.5202\"",
    serialize=to_wire, parse_value=_parse_decimal, parse_literal=_parse_literal,
)

SCALAR_MAP = {Decimal: DecimalScalar}
