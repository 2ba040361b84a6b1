"""Walls on every path (issue 10, items 1-2): what a partner and a second site could read or do on the old main."""
from __future__ import annotations

from decimal import Decimal

import pytest

from api import ids
from models import Balance, Lot, Site, StagedLot, WorkOrder
from tests.api.walls_plant import build

NODE = "query ($id: ID!) { node(id: $id) { %s } }"


def errors_of(response) -> list[tuple[str, str]]:
    body = response.json()
    return [(".".join(str(p) for p in e.get("path") or []), e["extensions"]["code"]) for e in body.get("errors", [])]


@pytest.fixture
def walled(api, sessions):
    built = build(sessions)
    api.principals.add_user("partner", roles=("PARTNER",), scopes=("genealogy:read",))
    api.principals.add_user("p2.qa", roles=("QA",), scopes=("production:read", "genealogy:read", "inventory:write",
                                                            "production:write", "triggers:write", "audit:read"),
                            sites=("P2",))
    return built


LEAKS = {
    "BOM lines": ("WorkOrder", "... on WorkOrder { bom { lines { quantity scrapPercent } } }", "node"),
    "standard cost": ("Item", "... on Item { code standardCost }", "node.standardCost"),
    "trigger keys": ("Trigger", "... on Trigger { idempotencyKey }", "node"),
    "postings": ("WorkOrder", "... on WorkOrder { flushPostings { edges { node { quantity } } } }", "node"),
    "balances": ("Lot", "... on Lot { lotNumber balances { quantity } }", "node.balances"),
    "rule-set document": ("RuleSet", "... on RuleSet { document }", "node"),
    "a posting's cost path": ("FlushPosting", "... on FlushPosting { quantity component { standardCost } }", "node"),
}


@pytest.mark.parametrize("leak", list(LEAKS))
def test_a_partner_reads_none_of_boms_costs_triggers_postings_balances_or_rules_through_node(api, walled, leak):
    type_name, selection, refused_at = LEAKS[leak]

    response = api.as_("partner").raw(NODE % selection, {"id": walled.node_ids[type_name]})

    # before: every one of these answered data; the root fields refused the same partner
    [(path, code)] = errors_of(response)
    assert (path, code) == (refused_at, "FORBIDDEN") or (path.startswith(refused_at) and code == "FORBIDDEN")
    data = response.json()["data"]["node"]
    assert data is None or "standardCost" not in data or data["standardCost"] is None
    assert data is None or data.get("balances") is None
    for secret in ("2.50", "posted", "lab-devices", "LAB-"):
        assert secret not in response.text


def test_a_partner_reads_the_genealogy_tree_lots_items_quantities_and_dates(api, walled):
    tree = api.as_("partner")("""query ($lot: ID!) { genealogy(lotId: $lot, direction: FORWARD) {
        root { lotNumber expiresOn receivedAt item { code name } }
        lots { lotNumber item { code } } edges { quantity uom level reversed from { lotNumber } to { lotNumber } } } }""",
                              lot=ids.encode("Lot", walled.lot_pks["C-1"]))["genealogy"]

    assert tree["root"]["lotNumber"] == "C-1" and tree["root"]["item"] == {"code": "C", "name": "C"}
    assert tree["root"]["receivedAt"] is not None
    assert {(e["from"]["lotNumber"], e["quantity"]) for e in tree["edges"]} >= {("C-1", "2.000")}
    assert [lot["lotNumber"] for lot in tree["lots"]][0] == "C-1"


def test_a_partner_following_a_genealogy_edge_to_its_work_order_is_refused(api, walled):
    response = api.as_("partner").raw("""query ($lot: ID!) { genealogy(lotId: $lot, direction: FORWARD) {
        edges { workOrder { number bom { lines { quantity } } } } } }""", {"lot": ids.encode("Lot", walled.lot_pks["C-1"])})

    assert {code for _, code in errors_of(response)} == {"FORBIDDEN"}
    assert "WO-1" not in response.text and "WO-CLOSED" not in response.text


def test_a_partner_reads_a_lot_by_node_without_its_status_supplier_or_balances(api, walled):
    partner = api.as_("partner")
    lot = partner(NODE % "... on Lot { id lotNumber expiresOn item { code name } }", id=walled.node_ids["Lot"])["node"]
    assert lot["lotNumber"] == "C-1" and lot["item"] == {"code": "C", "name": "C"}
    response = partner.raw(NODE % "... on Lot { supplier }", {"id": walled.node_ids["Lot"]})
    assert errors_of(response) == [("node.supplier", "FORBIDDEN")] and "Acme" not in response.text


def test_a_client_of_every_site_cannot_stage_a_lot_of_one_site_to_an_order_of_another(api, walled, sessions):
    api.principals.add_client("line", scopes=("inventory:write", "production:read"))
    p2_order = walled.p2.work_order("WO-P2", "FG", "10")
    stage = """mutation ($wo: ID!, $lot: ID!, $from: ID!, $scan: String!) { stageLot(input: {workOrderId: $wo,
        lotId: $lot, fromLocationId: $from, quantity: "1", scannedLotNumber: $scan}) { stagedLot { stagedQuantity }
        userErrors { code message field } } }"""
    variables = {"wo": ids.encode("WorkOrder", p2_order.id), "lot": ids.encode("Lot", walled.lot_pks["C-1"]),
                 "from": ids.encode("Location", walled.p1.locations["STOCK"]), "scan": "C-1"}

    answer = api.as_("line")(stage, **variables)["stageLot"]

    # before: staged, and the site-2 client then saw the site-1 lot, its supplier and its balance
    assert answer["stagedLot"] is None
    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [("LOT_AT_OTHER_SITE", ["input", "lotId"])]
    assert "C-1" not in answer["userErrors"][0]["message"]
    with sessions() as s:
        assert s.query(StagedLot).filter_by(work_order_id=p2_order.id).count() == 0
    # the site's own lot, taken from a bin of the other site, is refused as well
    variables.update(lot=ids.encode("Lot", walled.lot_pks["C-2"]), scan="C-2")
    answer = api.as_("line")(stage, **variables)["stageLot"]
    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [("LOCATION_AT_OTHER_SITE",
                                                                        ["input", "fromLocationId"])]
    seen = api.as_("p2.qa")(NODE % "... on WorkOrder { stagedLots { lot { lotNumber supplier } } }",
                            id=ids.encode("WorkOrder", p2_order.id))["node"]
    assert seen == {"stagedLots": []}


def test_a_site_bound_caller_never_sees_another_sites_lot_through_nested_fields(api, walled, sessions):
    """Rows that cross sites (written by the old main) stay behind the wall wherever they are reached."""
    p2_order = walled.p2.work_order("WO-P2", "FG", "10")
    with sessions() as s:  # what the old main's stageLot wrote: a site-1 lot bound to a site-2 order
        order = s.get(WorkOrder, p2_order.id)
        s.add(StagedLot(work_order_id=order.id, lot_id=walled.lot_pks["C-1"], location_id=order.wip_location_id,
                        staged_quantity=Decimal("1"), remaining_quantity=Decimal("1")))
        s.add(Balance(lot_id=walled.lot_pks["C-2"], location_id=walled.p1.locations["WIP"], quantity=Decimal("3")))
        s.commit()
    p2 = api.as_("p2.qa")

    response = p2.raw(NODE % "... on WorkOrder { number stagedLots { stagedQuantity lot { lotNumber supplier "
                             "balances { quantity } } } }", {"id": ids.encode("WorkOrder", p2_order.id)})
    assert errors_of(response) == [("node.stagedLots.0.lot", "NOT_FOUND")]
    assert "C-1" not in response.text and "Acme" not in response.text
    # a site-2 lot with a balance in a site-1 bin: the bin is not shown, its code not named
    response = p2.raw(NODE % "... on Lot { lotNumber balances { quantity location { code site { code } } } }",
                      {"id": ids.encode("Lot", walled.lot_pks["C-2"])})
    assert errors_of(response) == [("node.balances.1.location", "NOT_FOUND")]
    assert "P1" not in response.text
    # and by id, another site's records are simply absent
    for type_name in ("Site", "Location", "Lot", "WorkOrder", "Trigger", "FlushPosting", "Deviation", "RuleSet",
                      "Reversal"):
        assert p2(NODE % "id", id=walled.node_ids[type_name])["node"] is None, type_name


def test_another_sites_lot_named_in_an_input_is_not_found_and_its_number_never_echoed(api, walled, sessions):
    p2_order = walled.p2.work_order("WO-P2", "FG", "10")
    with sessions() as s:
        s.get(Lot, walled.lot_pks["C-1"]).status = "QUARANTINE"
        s.commit()
    answers = api.as_("p2.qa").raw("""mutation ($wo: ID!, $lot: ID!, $from: ID!) {
        stage: stageLot(input: {workOrderId: $wo, lotId: $lot, fromLocationId: $from, quantity: "1",
                                scannedLotNumber: "C-1"}) { userErrors { code message } }
        close: closeWorkOrder(input: {workOrderId: $wo, residuals: [{lotId: $lot, disposition: SCRAP,
                                       reasonCode: "X"}]}) { userErrors { code message } } }""",
                                   {"wo": ids.encode("WorkOrder", p2_order.id),
                                    "lot": ids.encode("Lot", walled.lot_pks["C-1"]),
                                    "from": ids.encode("Location", walled.p2.locations["STOCK"])})
    data = answers.json()["data"]
    assert {name: [e["code"] for e in data[name]["userErrors"]] for name in data} == {
        "stage": ["NOT_FOUND"], "close": ["NOT_FOUND"]}
    assert "C-1" not in str(data) and "QUARANTINE" not in str(data)


@pytest.mark.parametrize("code, refusal", [
    ("*", "SITE_CODE_RESERVED"), ("ALL", "SITE_CODE_RESERVED"), ("all", "SITE_CODE_RESERVED"),
    ("GLOBAL", "SITE_CODE_RESERVED"), ("ANY", "SITE_CODE_RESERVED"), ("NONE", "SITE_CODE_RESERVED"),
    ("SYSTEM", "SITE_CODE_RESERVED"), ("P 1", "SITE_CODE_INVALID"), ("p1", "SITE_CODE_INVALID"),
    ("-P1", "SITE_CODE_INVALID"), ("P1-", "SITE_CODE_INVALID"), ("P*", "SITE_CODE_INVALID"),
    ("P" * 41, "TOO_LONG"), ("PLANT,2", "SITE_CODE_INVALID"),  # the length is checked at the door
])
def test_reserved_and_malformed_site_codes_are_refused(api, sessions, code, refusal):
    answer = api("mutation ($code: String!) { createSite(input: {code: $code, name: \"x\"}) { site { code } "
                 "userErrors { code field } } }", code=code)["createSite"]

    # before: createSite accepted "*", which every grant reads as "all sites"
    assert answer == {"site": None, "userErrors": [{"code": refusal, "field": ["input", "code"]}]}
    with sessions() as s:
        assert s.query(Site).count() == 0


@pytest.mark.parametrize("code", ["P1", "PLANT-1", "S.2", "A_B", "9", "P" * 40])
def test_a_site_code_of_the_grammar_is_accepted(api, code):
    answer = api("mutation ($code: String!) { createSite(input: {code: $code, name: \"x\"}) { site { code } "
                 "userErrors { code } } }", code=code)["createSite"]
    assert answer == {"site": {"code": code}, "userErrors": []}


def test_a_genealogy_walk_stops_at_the_wall_of_the_callers_sites(api, walled, sessions):
    """A site-1 lot consumed into a lot now held at site 2 (as the old main allowed): site 2 sees its own lot only."""
    with sessions() as s:
        s.get(Lot, walled.lot_pks["OUT"]).site_id = walled.p2.site_id
        s.commit()
    ask = "query ($lot: ID!) { genealogy(lotId: $lot, direction: BACKWARD) { lots { lotNumber } edges { from { lotNumber } } } }"

    tree = api.as_("p2.qa")(ask, lot=ids.encode("Lot", walled.lot_pks["OUT"]))["genealogy"]

    # before: NOT_FOUND below the edge nulled the whole tree; the lot's number never shows either way
    assert tree == {"lots": [{"lotNumber": "WO-1-OUT"}], "edges": []}
    everyone = api(ask, lot=ids.encode("Lot", walled.lot_pks["OUT"]))["genealogy"]
    assert {"from": {"lotNumber": "C-1"}} in everyone["edges"]


GENEALOGY_WITH_ORDERS = """query ($lot: ID!) { genealogy(lotId: $lot, direction: BACKWARD) {
    lots { id lotNumber } edges { level quantity from { lotNumber } to { lotNumber } workOrder { number } } } }"""


def test_a_site_bound_caller_reads_a_tree_of_its_own_site_whole(api, walled, sessions):
    """Every lot and order at the caller's site: the walls let all of it through (read in one pass)."""
    with sessions() as s:
        for lot in ("OUT", "C-1"):
            s.get(Lot, walled.lot_pks[lot]).site_id = walled.p2.site_id
        s.get(WorkOrder, _order_of(s, walled.lot_pks["OUT"])).site_id = walled.p2.site_id
        s.commit()

    tree = api.as_("p2.qa")(GENEALOGY_WITH_ORDERS, lot=ids.encode("Lot", walled.lot_pks["OUT"]))["genealogy"]

    assert tree == api(GENEALOGY_WITH_ORDERS, lot=ids.encode("Lot", walled.lot_pks["OUT"]))["genealogy"]
    assert {"from": "C-1", "to": "WO-1-OUT", "workOrder": "WO-1"} in [
        {"from": e["from"]["lotNumber"], "to": e["to"]["lotNumber"], "workOrder": e["workOrder"]["number"]}
        for e in tree["edges"]]


def test_an_edge_made_by_another_sites_order_is_not_found_and_the_order_never_named(api, walled, sessions):
    """Both lots at the caller's site, the order that linked them at another (as the old main allowed)."""
    with sessions() as s:
        for lot in ("OUT", "C-1"):
            s.get(Lot, walled.lot_pks[lot]).site_id = walled.p2.site_id
        s.commit()

    response = api.as_("p2.qa").raw(GENEALOGY_WITH_ORDERS, {"lot": ids.encode("Lot", walled.lot_pks["OUT"])})

    assert ("genealogy.edges.0.workOrder", "NOT_FOUND") in errors_of(response)
    assert "WO-1" not in response.text.replace("WO-1-OUT", "")


def _order_of(session, output_lot_pk: int) -> int:
    return session.query(WorkOrder).filter_by(output_lot_id=output_lot_pk).one().id


def test_a_site_bound_subscriber_gets_its_sites_outcomes_through_the_walls(walled, sessions):
    import asyncio

    from api.context import Context
    from api.loaders import Loaders
    from api.schema import build_schema
    from auth.principal import Principal
    from kernel.settings import Settings
    from tests.builders import post, trigger

    schema = build_schema()
    line = Principal(subject="client:line", name="line", kind="client", scopes=frozenset({"triggers:write"}),
                     sites=frozenset({"P1"}))
    context = Context(sessions=sessions, principal=line, settings=Settings(), loaders=Loaders(sessions))
    with sessions() as s:
        order = s.query(WorkOrder).filter_by(number="WO-1").one()

    async def first_event():
        stream = await schema.subscribe("subscription { triggerOutcomes { outcome goodQuantity "
                                        "workOrder { number site { code } } } }", context_value=context)
        pending = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.6)
        await asyncio.to_thread(post, walled.p1, trigger(order, "1", key="seen-by-line"))
        return await asyncio.wait_for(pending, 10)

    event = asyncio.run(first_event())

    assert event.errors is None
    assert event.data["triggerOutcomes"] == {"outcome": "POSTED", "goodQuantity": "1",
                                             "workOrder": {"number": "WO-1", "site": {"code": "P1"}}}
