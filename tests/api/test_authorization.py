"""Default deny: every root field refuses a caller without its scope; sites are walls."""
from __future__ import annotations

import asyncio

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLScalarType

from api.context import Context
from api.loaders import Loaders
from api.schema import build_schema
from auth.principal import Principal
from kernel.settings import Settings

NOBODY = Principal(subject="client:nobody", name="nobody", kind="client", scopes=frozenset(), sites=frozenset({"*"}))
SAMPLE = {"ID": "V29ya09yZGVyOjE", "String": "x", "Int": 1, "Boolean": True, "Decimal": "1", "DateTime": "2026-01-01T00:00:00Z",
          "Date": "2026-01-01", "JSON": {}}


def sample(graphql_type):
    """A valid value of any input type, so each field's query passes validation and reaches its guard."""
    if isinstance(graphql_type, GraphQLNonNull):
        return sample(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        return [sample(graphql_type.of_type)]
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLScalarType):
        return SAMPLE[graphql_type.name]
    if isinstance(graphql_type, GraphQLInputObjectType):
        return {name: sample(f.type) for name, f in graphql_type.fields.items() if isinstance(f.type, GraphQLNonNull)}
    raise TypeError(graphql_type)


def operations(schema):
    for kind, root in (("query", schema._schema.query_type), ("mutation", schema._schema.mutation_type),
                       ("subscription", schema._schema.subscription_type)):
        for name, field in root.fields.items():
            required = {a: arg for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)}
            declared = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
            passed = ", ".join(f"{a}: ${a}" for a in required)
            selection = "{ __typename }" if _is_object(field.type) else ""
            document = f"{kind}{f'({declared})' if declared else ''} {{ {name}{f'({passed})' if passed else ''} {selection} }}"
            yield kind, name, document, {a: sample(arg.type) for a, arg in required.items()}


def _is_object(graphql_type) -> bool:
    while hasattr(graphql_type, "of_type"):
        graphql_type = graphql_type.of_type
    return hasattr(graphql_type, "fields")


SCHEMA = build_schema()


@pytest.mark.parametrize("kind, name, document, variables", list(operations(SCHEMA)),
                         ids=[f"{k}.{n}" for k, n, *_ in operations(SCHEMA)])
def test_every_root_field_refuses_a_caller_without_its_scope(kind, name, document, variables, sessions):
    context = Context(sessions=sessions, principal=NOBODY, settings=Settings(), loaders=Loaders(sessions))
    if kind == "subscription":
        async def first_result():
            stream = await SCHEMA.subscribe(document, variable_values=variables, context_value=context)
            if hasattr(stream, "errors"):
                return stream
            return await stream.__anext__()
        result = asyncio.run(first_result())
    else:
        result = asyncio.run(SCHEMA.execute(document, variable_values=variables, context_value=context))
    assert result.errors, f"{name} answered a caller without scopes"
    assert [e.extensions.get("code") for e in result.errors] == ["FORBIDDEN"], result.errors


def test_a_user_of_site_a_can_neither_see_nor_touch_anything_of_site_b(api, sessions):
    from api import ids
    from tests.builders import Plant, line, post, qa_user, trigger

    owner = qa_user(sessions, "b.owner")
    plant_b = Plant(sessions, owner, site_code="B")
    plant_b.item("C", "kg", 3)
    plant_b.item("FG", "ea", 0)
    plant_b.bom("FG", [line(1, "C", "1")])
    lot = plant_b.receive("C", "C-B", "10.000", status="QUARANTINE")
    order = plant_b.work_order("WO-B", "FG")
    blocked = post(plant_b, trigger(order, "1")).trigger
    Plant(sessions, owner, site_code="A")
    api.principals.add_user("alice", roles=("QA",), sites=("A",))
    alice = api.as_("alice")
    wo_id, lot_id = ids.encode("WorkOrder", order.id), ids.encode("Lot", lot.id)
    stock = ids.encode("Location", plant_b.locations["STOCK"])

    assert alice('{ workOrder(number: "WO-B") { id } }')["workOrder"] is None
    assert alice('{ lot(itemCode: "C", lotNumber: "C-B") { id } }')["lot"] is None
    assert alice("query ($id: ID!) { node(id: $id) { id } }", id=wo_id)["node"] is None
    assert alice("{ workOrders { edges { node { number } } } }")["workOrders"]["edges"] == []
    codes = {
        "stage": alice("""mutation ($wo: ID!, $lot: ID!, $from: ID!) { stageLot(input: {workOrderId: $wo, lotId: $lot,
                 fromLocationId: $from, quantity: "1", scannedLotNumber: "C-B"}) { userErrors { code } } }""",
                       wo=wo_id, lot=lot_id, **{"from": stock})["stageLot"],
        "post": alice("""mutation ($wo: ID!) { postTrigger(input: {idempotencyKey: "a", workOrderId: $wo,
                 kind: OPERATION_COMPLETE, goodQuantity: "1"}) { userErrors { code } } }""", wo=wo_id)["postTrigger"],
        "sign a lot release": alice("""mutation ($lot: ID!) { setLotStatus(input: {lotId: $lot, status: RELEASED,
                 reason: "ok", signature: {meaning: "Released", password: "correct horse"}}) { userErrors { code } } }""",
                                    lot=lot_id)["setLotStatus"],
        "sign a discard": alice("""mutation ($t: ID!) { discardTrigger(input: {triggerId: $t, reasonCode: "X",
                 signature: {meaning: "Discarded", password: "correct horse"}}) { userErrors { code } } }""",
                                t=ids.encode("Trigger", blocked.id))["discardTrigger"],
    }
    assert {k: [e["code"] for e in v["userErrors"]] for k, v in codes.items()} == {k: ["NOT_FOUND"] for k in codes}
    tree = alice.raw("query ($lot: ID!) { genealogy(lotId: $lot, direction: FORWARD) { truncated } }",
                     {"lot": lot_id}).json()
    assert tree["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_an_approval_signature_is_bound_to_the_hash_of_the_bom_canonical_form(api, sessions):
    from backflush.services.boms import bom_content
    from kernel.audit import canonical, sha256
    from models import Bom, ESignature
    from tests.builders import Plant, line, qa_user

    plant = Plant(sessions, qa_user(sessions, "engineer"))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    bom = plant.bom("FG", [line(1, "C", "1.25")])
    with sessions() as s:
        signature = s.query(ESignature).filter_by(record_type="bom", record_id=bom.id).one()
        assert signature.record_hash == sha256(canonical(bom_content(s, s.get(Bom, bom.id))))
        assert signature.signer_name == "Engineer (QA)" and signature.meaning == "Approved"
