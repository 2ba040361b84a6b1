"""Wire scalars. Decimals travel as strings; dates and times as ISO 8601.

None of them refuses a value while the request is parsed: a malformed one reaches the input door
(`api/input_door.py`), which answers with a coded user error and the field's path (SPEC §4.3:
"malformed decimal"), as it does for every other bad value. A GraphQL coercion error would name
neither the field nor a code.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode
from strawberry.types.scalar import ScalarDefinition

from backflush.core.quantity import to_wire


def _parse_decimal(value):
    return value  # the grammar has one owner, backflush.core.quantity; the door applies it


def _parse_decimal_literal(node, variables=None):
    if isinstance(node, (StringValueNode, IntValueNode)):
        return node.value  # an Int literal's digits, checked by the same grammar
    if isinstance(node, FloatValueNode):
        return float(node.value)  # refused downstream: a float literal is not an exact quantity
    return node  # refused by the door as not a decimal


def _lenient(parse):
    def parse_value(value):
        if isinstance(value, str):
            try:
                return parse(value)
            except (ValueError, OverflowError):
                pass
        return value  # not a date or time: the door refuses it with INVALID_DATE / INVALID_DATETIME
    return parse_value


def _literal(parse_value):
    def parse_literal(node, variables=None):
        return parse_value(node.value) if isinstance(node, StringValueNode) else node
    return parse_literal


_parse_date_value = _lenient(dt.date.fromisoformat)
_parse_datetime_value = _lenient(dt.datetime.fromisoformat)  # a bare date reads as naive midnight: refused

DecimalScalar = strawberry.scalar(
    name="Decimal", description="An exact decimal number, as a string: \"0.5202\"",
    serialize=to_wire, parse_value=_parse_decimal, parse_literal=_parse_decimal_literal,
)

DateScalar = strawberry.scalar(
    name="Date", description="Date (isoformat)", serialize=dt.date.isoformat,
    parse_value=_parse_date_value, parse_literal=_literal(_parse_date_value),
)

DateTimeScalar = strawberry.scalar(
    name="DateTime", description="Date with time (isoformat)", serialize=dt.datetime.isoformat,
    parse_value=_parse_datetime_value, parse_literal=_literal(_parse_datetime_value),
)

SCALAR_MAP: dict[object, ScalarDefinition] = {Decimal: DecimalScalar, dt.date: DateScalar, dt.datetime: DateTimeScalar}
