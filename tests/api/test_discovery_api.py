"""Discovery (sites, locations, items, lots) and the correction worklist, each within the caller's sites."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from backflush.services.commands import command
from models import Trigger
from tests.builders import Plant, line, post, qa_user, trigger

SITES = "{ sites { code name } }"
LOCATIONS = "query ($site: String, $kind: LocationKind) { locations(siteCode: $site, kind: $kind) { code kind site { code } } }"
ITEMS = """query ($first: Int, $after: String, $search: String) { items(first: $first, after: $after, search: $search) {
  edges { node { code } cursor } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
LOTS = """query ($first: Int, $after: String, $item: String, $status: LotStatus, $site: String) {
  lots(first: $first, after: $after, itemCode: $item, status: $status, siteCode: $site) {
    edges { node { lotNumber status item { code } } } pageInfo { hasNextPage endCursor } } }"""
WORKLIST = """query ($first: Int, $after: String, $site: String) { blockedTriggers(first: $first, after: $after, siteCode: $site) {
  edges { node { idempotencyKey outcome ageSeconds blockedSince workOrder { number }
                 blockReasons { code required eligible component { code } } } }
  pageInfo { hasNextPage endCursor } } }"""
RETRY = """mutation ($id: ID!) { retryTrigger(input: {triggerId: $id}) {
  userErrors { code } trigger { outcome blockReasons { code } postings { quantity }
    attempts { number outcome blockReasons { code required eligible } } } } }"""
GENEALOGY = """query ($lot: ID!) { genealogy(lotId: $lot, direction: BACKWARD) {
  edges { from { lotNumber } to { lotNumber } quantity uom level reversed workOrder { number }
          postings { quantity trigger { idempotencyKey } } } } }"""


def two_plants(sessions):
    """P1 makes FG from C (lots C-1, C-2); P2, another site, has its own lot of C and an order that blocks."""
    principal = qa_user(sessions)
    one, two = Plant(sessions, principal, "P1"), Plant(sessions, principal, "P2")
    one.item("C", "kg", 3)
    one.item("FG", "ea", 0)
    one.item("PKG", "ea", 0)
    one.bom("FG", [line(1, "C", "1", "kg")])
    lots = [one.receive("C", "C-1", "10.000"), one.receive("C", "C-2", "10.000"), two.receive("C", "C-9", "5.000")]
    return one, two, lots


def blocked(plant, number, key):
    order = plant.work_order(number, "FG", "1000")
    return order, post(plant, trigger(order, "2", key=key)).trigger


def test_sites_and_locations_list_only_the_callers_sites(api, sessions):
    two_plants(sessions)
    api.principals.add_client("p1", scopes={"production:read"}, sites=("P1",))
    p1 = api.as_("p1")

    assert api(SITES)["sites"] == [{"code": "P1", "name": "Plant P1"}, {"code": "P2", "name": "Plant P2"}]
    assert p1(SITES)["sites"] == [{"code": "P1", "name": "Plant P1"}]
    assert p1(LOCATIONS, kind="WIP")["locations"] == [{"code": "WIP", "kind": "WIP", "site": {"code": "P1"}}]
    assert [l["code"] for l in p1(LOCATIONS)["locations"]] == ["FINISHED", "QUARANTINE", "STOCK", "WIP"]
    assert p1(LOCATIONS, site="P2")["locations"] == []
    assert {l["site"]["code"] for l in api(LOCATIONS)["locations"]} == {"P1", "P2"}


def test_items_are_searched_by_code_or_name_and_paged_by_keyset(api, sessions):
    two_plants(sessions)

    first = api(ITEMS, first=2)["items"]
    assert [e["node"]["code"] for e in first["edges"]] == ["C", "FG"]
    assert first["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False, "endCursor": first["edges"][1]["cursor"]}
    rest = api(ITEMS, first=2, after=first["pageInfo"]["endCursor"])["items"]
    assert [e["node"]["code"] for e in rest["edges"]] == ["PKG"] and rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["code"] for e in api(ITEMS, search="pk")["items"]["edges"]] == ["PKG"]
    assert api(ITEMS, search="%")["items"]["edges"] == []  # a wildcard is a character like any other


def test_lots_are_filtered_by_item_status_and_site_and_never_show_another_sites_lot(api, sessions):
    two_plants(sessions)
    api.principals.add_client("p1", scopes={"production:read"}, sites=("P1",))
    p1 = api.as_("p1")

    def numbers(client, **filters):
        return [e["node"]["lotNumber"] for e in client(LOTS, **filters)["lots"]["edges"]]

    assert numbers(api, item="C") == ["C-1", "C-2", "C-9"]
    assert numbers(api, item="C", site="P2") == ["C-9"]
    assert numbers(p1, item="C") == ["C-1", "C-2"]
    assert numbers(p1, site="P2") == []
    assert numbers(p1, status="RELEASED") == ["C-1", "C-2"] and numbers(p1, status="QUARANTINE") == []
    page = p1(LOTS, first=1)["lots"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert numbers(p1, first=5, after=page["pageInfo"]["endCursor"]) == ["C-2"]


def test_the_worklist_lists_every_visible_blocked_trigger_oldest_first_with_reasons_and_age(api, sessions):
    one, two, _ = two_plants(sessions)
    _, older = blocked(one, "WO-A", "a")  # nothing staged: INSUFFICIENT_STAGED_STOCK
    _, hidden = blocked(two, "WO-Z", "z")
    _, newer = blocked(one, "WO-B", "b")
    with command(sessions, None) as s:  # the first block happened an hour ago
        s.execute(update(Trigger).where(Trigger.id == older.id).values(
            first_blocked_at=older.first_blocked_at - timedelta(hours=1)))
        s.commit()
    api.principals.add_client("p1", scopes={"production:read"}, sites=("P1",))

    edges = api.as_("p1")(WORKLIST)["blockedTriggers"]["edges"]
    assert [(e["node"]["idempotencyKey"], e["node"]["workOrder"]["number"]) for e in edges] == [("a", "WO-A"), ("b", "WO-B")]
    first = edges[0]["node"]
    assert first["outcome"] == "BLOCKED" and 3600 <= first["ageSeconds"] < 3700
    assert first["blockReasons"] == [{"code": "INSUFFICIENT_STAGED_STOCK", "required": "2.000", "eligible": "0.000",
                                      "component": {"code": "C"}}]
    assert [e["node"]["idempotencyKey"] for e in api(WORKLIST, site="P2")["blockedTriggers"]["edges"]] == ["z"]
    page = api(WORKLIST, first=1)["blockedTriggers"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = api(WORKLIST, first=5, after=page["pageInfo"]["endCursor"])["blockedTriggers"]["edges"]
    assert [e["node"]["idempotencyKey"] for e in rest] == ["z", "b"]


def test_a_corrected_trigger_posts_with_no_block_reasons_and_keeps_its_blocked_attempt(api, sessions):
    one, _, lots = two_plants(sessions)
    order, stuck = blocked(one, "WO-A", "a")
    one.stage(order, lots[0], "5.000")
    trigger_id = api('{ blockedTriggers { edges { node { id } } } }')["blockedTriggers"]["edges"][0]["node"]["id"]

    retried = api(RETRY, id=trigger_id)["retryTrigger"]

    assert retried["userErrors"] == [] and retried["trigger"]["outcome"] == "POSTED"
    assert retried["trigger"]["blockReasons"] == [] and retried["trigger"]["postings"] == [{"quantity": "2.000"}]
    assert retried["trigger"]["attempts"] == [
        {"number": 1, "outcome": "BLOCKED",
         "blockReasons": [{"code": "INSUFFICIENT_STAGED_STOCK", "required": "2.000", "eligible": "0.000"}]},
        {"number": 2, "outcome": "POSTED", "blockReasons": []}]
    assert api(WORKLIST)["blockedTriggers"]["edges"] == []
    node = api('query ($id: ID!) { node(id: $id) { ... on Trigger { ageSeconds blockedSince } } }', id=trigger_id)["node"]
    assert node["ageSeconds"] is None and node["blockedSince"] is not None


def test_genealogy_has_one_edge_per_lot_pair_and_work_order_with_its_postings(api, sessions):
    one, _, lots = two_plants(sessions)
    order = one.work_order("WO-G", "FG", "100")
    one.stage(order, lots[0], "3.000")
    one.stage(order, lots[1], "10.000")
    for good in ("2", "2", "1"):  # C-1 gives 2, then 1 + C-2's 1, then C-2's 1
        assert post(one, trigger(order, good)).trigger.outcome == "POSTED"
    output = api('{ workOrder(number: "WO-G") { outputLot { id lotNumber } } }')["workOrder"]["outputLot"]

    edges = api(GENEALOGY, lot=output["id"])["genealogy"]["edges"]

    assert [(e["from"]["lotNumber"], e["quantity"], len(e["postings"])) for e in edges] == [("C-1", "3.000", 2),
                                                                                            ("C-2", "2.000", 2)]
    assert all(e["to"]["lotNumber"] == output["lotNumber"] and e["workOrder"]["number"] == "WO-G"
               and e["level"] == 1 and e["reversed"] is False for e in edges)
    assert [p["quantity"] for p in edges[0]["postings"]] == ["2.000", "1.000"]


def test_discovery_and_the_worklist_need_production_read(api, sessions):
    two_plants(sessions)
    api.principals.add_client("partner", scopes={"genealogy:read"}, sites=("P1",))
    for document in (SITES, LOCATIONS, ITEMS, LOTS, WORKLIST):
        body = api.as_("partner").raw(document).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", document
