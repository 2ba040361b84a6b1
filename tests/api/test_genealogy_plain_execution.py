"""The served genealogy answer (plain execution, api/plain_execution.py) is exactly graphql-core's: the same data,
the same errors at the same paths, the same JSON, behind the same walls (issue 12)."""
from __future__ import annotations

import asyncio
import gc
import json

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api import ids, plain_execution
from api.context import Context
from api.json_encoding import encode_json
from api.loaders import Loaders
from api.schema import build_schema
from api.types.genealogy import GenealogyEdge
from api.types.inventory import Lot as LotType
from auth.principal import Principal
from kernel.settings import Settings
from models import Lot, WorkOrder
from tests.test_genealogy import Floor

TREE = """query ($lot: ID!, $direction: GenealogyDirection!) { genealogy(lotId: $lot, direction: $direction) {
  __typename direction truncated
  root { id lotNumber status expiresOn receivedAt supplier potency }
  lots { __typename id lotNumber status }
  edges { level quantity uom reversed from { id lotNumber } to { id lotNumber } again: from { id }
          workOrder { id number quantity overproductionTolerancePercent status rework } postings { id quantity } } } }"""
PROBE = """query ($lot: ID!, $direction: GenealogyDirection!) { genealogy(lotId: $lot, direction: $direction) {
  truncated lots { id lotNumber } edges { level quantity uom from { id } to { id } workOrder { number } } } }"""

EVERY_SITE = Principal(subject="user:admin", name="Admin", kind="user", roles=frozenset({"ADMIN"}),
                       scopes=frozenset({"admin"}), sites=frozenset({"*"}))
SITE_P1 = Principal(subject="user:p1", name="P1 QA", kind="user", roles=frozenset({"QA"}),
                    scopes=frozenset({"admin"}), sites=frozenset({"P1"}))
PARTNER = Principal(subject="client:partner", name="partner", kind="client", scopes=frozenset({"genealogy:read"}),
                    sites=frozenset({"P1"}))


@pytest.fixture
def plant(sessions):
    """A packed lot three levels deep at site P1: a lot consumed twice into one order and again one level up
    (a diamond), a reversed posting, and a lot of site P2 consumed into the granulate."""
    floor = Floor(sessions, "P1")
    lots = {name: floor.lot(name, f"{name}-1") for name in ("API", "EXC", "SECRET", "GRAN", "TAB", "PACK")}
    orders = {name: floor.order(f"WO-{name}", lots[name]) for name in ("GRAN", "TAB", "PACK")}
    floor.consume(lots["API"], into=orders["GRAN"], quantity="10.000")
    floor.consume(lots["API"], into=orders["GRAN"], quantity="2.500")
    floor.consume(lots["EXC"], into=orders["GRAN"], quantity="40.000", reversed=True)
    floor.consume(lots["SECRET"], into=orders["GRAN"], quantity="1.000")
    floor.consume(lots["GRAN"], into=orders["TAB"], quantity="49.500")
    floor.consume(lots["API"], into=orders["TAB"], quantity="0.125")
    floor.consume(lots["TAB"], into=orders["PACK"], quantity="48.000")
    other_site = Floor(sessions, "P2").site_id
    with sessions() as s:
        s.get(Lot, lots["SECRET"]).site_id = other_site
        s.commit()
    return floor, lots, orders, other_site


def answers(sessions, principal: Principal, lot_pk: int, direction: str, query: str = TREE):
    """The result through the served schema, and through the same schema completed by graphql-core alone."""
    variables = {"lot": ids.encode("Lot", lot_pk), "direction": direction}
    results = []
    for execution_context_class in (plain_execution.PlainSubtreeExecutionContext, StrawberryGraphQLCoreExecutionContext):
        schema = build_schema(Settings(), execution_context_class=execution_context_class)
        context = Context(sessions=sessions, principal=principal, settings=Settings(), loaders=Loaders(sessions))
        results.append(asyncio.run(schema.execute(query, variable_values=variables, context_value=context)))
    return results


def same(plain, general) -> None:
    assert plain.data == general.data
    assert [(e.message, e.path, e.extensions) for e in plain.errors or []] == [
        (e.message, e.path, e.extensions) for e in general.errors or []]
    assert encode_json(plain.data) == json.dumps(general.data, separators=(",", ":"))


@pytest.fixture
def completions(monkeypatch):
    """How many objects the plain path completed itself (not handed back to graphql-core)."""
    counted = {"objects": 0}
    complete = plain_execution._complete

    def counting(plan, source, info):
        counted["objects"] += 1
        return complete(plan, source, info)
    monkeypatch.setattr(plain_execution, "_complete", counting)
    return counted


@pytest.mark.parametrize("principal", [EVERY_SITE, SITE_P1, PARTNER], ids=["every site", "site P1", "partner"])
@pytest.mark.parametrize("query", [TREE, PROBE], ids=["every field", "bench probe"])
def test_a_backward_tree_reads_the_same_through_the_plain_path_and_graphql_core(sessions, plant, principal, query):
    _, lots, _, _ = plant

    plain, general = answers(sessions, principal, lots["PACK"], "BACKWARD", query)

    same(plain, general)


def test_the_plain_path_completes_the_probe_tree_itself_and_hides_the_other_sites_lot(sessions, plant, completions):
    _, lots, _, _ = plant

    plain, general = answers(sessions, SITE_P1, lots["PACK"], "BACKWARD", PROBE)

    same(plain, general)
    assert completions["objects"] > len(plain.data["genealogy"]["edges"])  # not handed back to graphql-core
    shown = {lot["id"] for lot in plain.data["genealogy"]["lots"]}
    assert ids.encode("Lot", lots["SECRET"]) not in shown and ids.encode("Lot", lots["API"]) in shown
    everyone, _ = answers(sessions, EVERY_SITE, lots["PACK"], "BACKWARD", PROBE)
    assert ids.encode("Lot", lots["SECRET"]) in {lot["id"] for lot in everyone.data["genealogy"]["lots"]}


def test_a_forward_tree_reads_the_same_either_way(sessions, plant):
    _, lots, _, _ = plant

    for principal in (EVERY_SITE, SITE_P1):
        same(*answers(sessions, principal, lots["API"], "FORWARD"))


def test_an_edge_whose_order_is_at_another_site_gives_the_same_not_found_either_way(sessions, plant):
    _, lots, orders, other_site = plant
    with sessions() as s:
        s.get(WorkOrder, orders["TAB"]).site_id = other_site
        s.commit()

    plain, general = answers(sessions, SITE_P1, lots["PACK"], "BACKWARD", PROBE)

    same(plain, general)
    assert [e.extensions["code"] for e in plain.errors] == ["NOT_FOUND"]


def test_the_objects_of_an_answer_and_the_answer_are_freed_with_it_not_left_for_a_collection(sessions, plant):
    """graphql-core's executor lives in reference cycles; had the plain path's plans (which keep every object they
    completed) stayed with it, each answer's lots would wait for the slowest collection of all (issue 12)."""
    _, lots, _, _ = plant
    schema = build_schema(Settings(), execution_context_class=plain_execution.PlainSubtreeExecutionContext)
    context = Context(sessions=sessions, principal=EVERY_SITE, settings=Settings(), loaders=Loaders(sessions))
    variables = {"lot": ids.encode("Lot", lots["PACK"]), "direction": "BACKWARD"}
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable is kept in gc.garbage to be looked at
    try:
        result = asyncio.run(schema.execute(PROBE, variable_values=variables, context_value=context))
        assert result.errors is None and len(result.data["genealogy"]["lots"]) == 6
        del result
        gc.collect()
        left = [type(garbage).__name__ for garbage in gc.garbage if isinstance(garbage, (LotType, GenealogyEdge))]
        payload_left = [garbage for garbage in gc.garbage if isinstance(garbage, dict) and "genealogy" in garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

    assert left == []
    assert payload_left == []  # nor the answer itself (held through the walls, strawberry's context and its result)
