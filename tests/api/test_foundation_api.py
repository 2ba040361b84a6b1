"""Foundation acceptance through GraphQL: demo data, receiving and staging, BOM approval, audit."""
from __future__ import annotations

from sqlalchemy import text

from backflush.services.demo import seed_demo

DEMO_ORDER = """
query ($number: String!) {
  workOrder(number: $number) {
    number quantity status outputLot { lotNumber status }
    bom { version status baseQuantity lines { lineNo quantity uom scrapPercent setupScrap scrapSource component { code } } }
  }
}"""

CREATE_ITEM = """
mutation ($code: String!, $uom: String!, $precision: Int!, $potency: Boolean, $phantom: Boolean) {
  createItem(input: {code: $code, name: $code, baseUom: $uom, precision: $precision,
                     variablePotency: $potency, phantom: $phantom}) {
    item { id code } userErrors { code message field }
  }
}"""

CREATE_BOM = """
mutation ($item: String!, $lines: [BomLineInput!]!) {
  createBom(input: {itemCode: $item, lines: $lines}) { bom { id status version } userErrors { code message } }
}"""

APPROVE_BOM = """
mutation ($id: ID!, $password: String) {
  approveBom(input: {id: $id, signature: {meaning: "Approved", password: $password}}) {
    bom { id status signatures { signerName meaning recordHash } } userErrors { code message field }
  }
}"""

UPDATE_BOM = """
mutation ($id: ID!, $lines: [BomLineInput!]!) {
  updateBomDraft(input: {id: $id, lines: $lines}) { bom { id } userErrors { code } }
}"""

SITE_AND_LOCATIONS = """
mutation {
  createSite(input: {code: "S1", name: "Site 1"}) { site { id } userErrors { code } }
  stock: createLocation(input: {siteCode: "S1", code: "STOCK", kind: STOCK}) { location { id } userErrors { code } }
  wip: createLocation(input: {siteCode: "S1", code: "WIP", kind: WIP}) { location { id } userErrors { code } }
  fin: createLocation(input: {siteCode: "S1", code: "FIN", kind: FINISHED}) { location { id } userErrors { code } }
}"""

RECEIVE = """
mutation ($location: ID!, $qty: Decimal!) {
  receiveGoods(input: {itemCode: "API", lotNumber: "A-1", quantity: $qty, locationId: $location,
                       expiresOn: "2031-01-31"}) {
    lot { id lotNumber expiresOn balances { quantity uom location { code } } } userErrors { code }
  }
}"""

CREATE_WO = """
mutation ($wip: ID!, $fin: ID!) {
  createWorkOrder(input: {number: "WO-1", itemCode: "TAB", quantity: "100", siteCode: "S1", wipLocationId: $wip,
                          outputLocationId: $fin, operations: [{seq: 10, name: "Compress"}]}) {
    workOrder { id status } userErrors { code message }
  }
}"""

RELEASE_WO = """
mutation ($id: ID!) {
  releaseWorkOrder(input: {workOrderId: $id}) { workOrder { id status outputLot { lotNumber } bom { version } } userErrors { code } }
}"""

STAGE = """
mutation ($wo: ID!, $lot: ID!, $from: ID!, $qty: Decimal!, $scan: String!) {
  stageLot(input: {workOrderId: $wo, lotId: $lot, fromLocationId: $from, quantity: $qty, scannedLotNumber: $scan}) {
    stagedLot { stagedQuantity remainingQuantity location { code } lot { lotNumber balances { quantity location { code } } } }
    userErrors { code field message }
  }
}"""

LOT_BALANCES = """
query { lot(itemCode: "API", lotNumber: "A-1") { balances { quantity location { code } } } }"""


def test_the_demo_work_order_shows_its_bom_lines_with_decimal_strings(api, sessions):
    seed_demo(sessions)
    order = api(DEMO_ORDER, number="WO-DEMO-1")["workOrder"]
    assert order["quantity"] == "1200" and order["status"] == "RELEASED"
    assert order["outputLot"] == {"lotNumber": "FG-24-0001", "status": "QUARANTINE"}
    assert order["bom"]["baseQuantity"] == "12" and order["bom"]["status"] == "ACTIVE"
    api_line = order["bom"]["lines"][0]
    assert api_line == {"lineNo": 1, "quantity": "72", "uom": "g", "scrapPercent": "2", "setupScrap": "0",
                        "scrapSource": "Process validation PV-2025-014", "component": {"code": "API-IBU"}}
    assert [l["component"]["code"] for l in order["bom"]["lines"]] == ["API-IBU", "BTL-60", "LBL-IBU", "CTN-12"]


def plant(api) -> dict:
    ids = api(SITE_AND_LOCATIONS)
    api(CREATE_ITEM, code="API", uom="kg", precision=3)
    api(CREATE_ITEM, code="TAB", uom="ea", precision=0)
    bom = api(CREATE_BOM, item="TAB", lines=[{"lineNo": 1, "componentCode": "API", "quantity": "0.5", "uom": "kg"}])
    api(APPROVE_BOM, id=bom["createBom"]["bom"]["id"], password="correct horse")
    return {"stock": ids["stock"]["location"]["id"], "wip": ids["wip"]["location"]["id"], "fin": ids["fin"]["location"]["id"]}


def released_order(api, where) -> str:
    order = api(CREATE_WO, wip=where["wip"], fin=where["fin"])["createWorkOrder"]["workOrder"]
    return api(RELEASE_WO, id=order["id"])["releaseWorkOrder"]["workOrder"]["id"]


def balances(api) -> dict:
    return {b["location"]["code"]: b["quantity"] for b in api(LOT_BALANCES)["lot"]["balances"]}


def test_receiving_ten_and_staging_four_shows_six_in_stock_and_four_in_wip(api):
    where = plant(api)
    lot = api(RECEIVE, location=where["stock"], qty="10.000")["receiveGoods"]["lot"]
    assert lot["balances"] == [{"quantity": "10.000", "uom": "kg", "location": {"code": "STOCK"}}]
    order = released_order(api, where)
    staged = api(STAGE, wo=order, lot=lot["id"], **{"from": where["stock"]}, qty="4.000", scan="A-1")["stageLot"]
    assert staged["userErrors"] == []
    assert staged["stagedLot"]["remainingQuantity"] == "4.000"
    assert balances(api) == {"STOCK": "6.000", "WIP": "4.000"}


def test_each_bad_staging_gets_its_own_code_and_changes_nothing(api):
    where = plant(api)
    lot = api(RECEIVE, location=where["stock"], qty="10.000")["receiveGoods"]["lot"]
    order = released_order(api, where)
    cases = [("4.000", "A-9", "LOT_SCAN_MISMATCH"), ("-1", "A-1", "QUANTITY_NOT_POSITIVE"),
             ("four", "A-1", "INVALID_DECIMAL"), ("11.000", "A-1", "INSUFFICIENT_STOCK")]
    for qty, scan, code in cases:
        result = api(STAGE, wo=order, lot=lot["id"], **{"from": where["stock"]}, qty=qty, scan=scan)["stageLot"]
        assert result["stagedLot"] is None
        assert [e["code"] for e in result["userErrors"]] == [code]
    unknown = api(STAGE, wo=order, lot="TG90OjQ0NA", **{"from": where["stock"]}, qty="1", scan="A-1")["stageLot"]
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
    assert balances(api) == {"STOCK": "10.000"}


def test_a_work_order_on_an_item_with_only_a_draft_bom_is_refused(api):
    where = plant(api)
    api(CREATE_ITEM, code="SYRUP", uom="L", precision=2)
    api(CREATE_BOM, item="SYRUP", lines=[{"lineNo": 1, "componentCode": "API", "quantity": "0.1", "uom": "kg"}])
    result = api(CREATE_WO.replace('"TAB"', '"SYRUP"'), wip=where["wip"], fin=where["fin"])["createWorkOrder"]
    assert result["workOrder"] is None
    assert [e["code"] for e in result["userErrors"]] == ["BOM_NOT_APPROVED"]


def approve_codes(api, item, lines) -> list[str]:
    bom = api(CREATE_BOM, item=item, lines=lines)["createBom"]["bom"]
    result = api(APPROVE_BOM, id=bom["id"], password="correct horse")["approveBom"]
    assert result["bom"] is None
    return sorted(e["code"] for e in result["userErrors"])


def test_bom_approval_refuses_a_line_uom_without_conversion(api):
    plant(api)
    assert approve_codes(api, "TAB", [{"lineNo": 1, "componentCode": "API", "quantity": "500", "uom": "mg"}]) \
        == ["MISSING_UOM_CONVERSION"]


def test_bom_approval_refuses_a_variable_potency_component_posted_by_backflush(api):
    plant(api)
    api(CREATE_ITEM, code="API-P", uom="kg", precision=3, potency=True)
    assert approve_codes(api, "TAB", [{"lineNo": 1, "componentCode": "API-P", "quantity": "1", "uom": "kg"}]) \
        == ["POTENCY_REQUIRES_SCAN_ISSUE"]


def test_bom_approval_refuses_phantoms_that_nest_into_a_cycle(api):
    plant(api)
    api(CREATE_ITEM, code="PH-A", uom="ea", precision=0, phantom=True)
    api(CREATE_ITEM, code="PH-B", uom="ea", precision=0, phantom=True)
    bom_a = api(CREATE_BOM, item="PH-A", lines=[{"lineNo": 1, "componentCode": "API", "quantity": "1", "uom": "kg"}])
    api(APPROVE_BOM, id=bom_a["createBom"]["bom"]["id"], password="correct horse")
    bom_b = api(CREATE_BOM, item="PH-B", lines=[{"lineNo": 1, "componentCode": "PH-A", "quantity": "1", "uom": "ea"}])
    api(APPROVE_BOM, id=bom_b["createBom"]["bom"]["id"], password="correct horse")
    # PH-A version 2 consumes PH-B, which consumes PH-A: approval must refuse it.
    assert approve_codes(api, "PH-A", [{"lineNo": 1, "componentCode": "PH-B", "quantity": "1", "uom": "ea"}]) == ["BOM_CYCLE"]


def test_an_approved_bom_cannot_be_edited_and_carries_a_signature_bound_to_its_content(api):
    plant(api)
    bom = api(CREATE_BOM, item="TAB", lines=[{"lineNo": 1, "componentCode": "API", "quantity": "0.6", "uom": "kg"}])
    bom_id = bom["createBom"]["bom"]["id"]
    approved = api(APPROVE_BOM, id=bom_id, password="correct horse")["approveBom"]["bom"]
    assert approved["status"] == "ACTIVE"
    [signature] = approved["signatures"]
    assert signature["signerName"] == "Qa Tester" and signature["meaning"] == "Approved" and len(signature["recordHash"]) == 64
    edit = api(UPDATE_BOM, id=bom_id, lines=[{"lineNo": 1, "componentCode": "API", "quantity": "9", "uom": "kg"}])
    assert [e["code"] for e in edit["updateBomDraft"]["userErrors"]] == ["RECORD_IMMUTABLE"]


def test_a_wrong_password_approves_nothing(api):
    plant(api)
    bom = api(CREATE_BOM, item="TAB", lines=[{"lineNo": 1, "componentCode": "API", "quantity": "0.7", "uom": "kg"}])
    result = api(APPROVE_BOM, id=bom["createBom"]["bom"]["id"], password="wrong")["approveBom"]
    assert [e["code"] for e in result["userErrors"]] == ["SIGNATURE_INVALID"]
    again = api("query($n: ID!) { node(id: $n) { ... on Bom { status signatures { meaning } } } }", n=bom["createBom"]["bom"]["id"])
    assert again["node"] == {"status": "DRAFT", "signatures": []}


def test_tampering_with_one_audit_row_is_reported_at_that_row(api, engine):
    plant(api)
    assert api("{ verifyAuditTrail { ok checked firstBrokenSeq } }")["verifyAuditTrail"]["ok"] is True
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # a DBA bypassing the append-only trigger
            connection.execute(text("ALTER TABLE auditrecord DISABLE TRIGGER audit_record_append_only"))
        connection.execute(text("UPDATE auditrecord SET actor = 'mallory' WHERE seq = 3"))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM auditrecord")).scalar_one()
    result = api("{ verifyAuditTrail { ok checked firstBrokenSeq breakCount } }")["verifyAuditTrail"]
    assert result == {"ok": False, "checked": rows, "firstBrokenSeq": 3, "breakCount": 1}  # checked: the whole trail


def test_an_anonymous_request_gets_401_with_a_bearer_challenge(api):
    response = api.as_("nobody").raw('{ item(code: "API") { code } }')
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_production_settings_turn_off_introspection_and_graphiql(api, database_url):
    from starlette.testclient import TestClient

    from api.app import create_app
    from kernel.settings import Settings

    app = create_app(Settings(database_url=database_url, graphiql=False, introspection=False),
                     authenticate=api.principals.authenticate)
    with TestClient(app) as client:
        introspection = client.post("/graphql", json={"query": "{ __schema { types { name } } }"},
                                    headers={"Authorization": "Bearer qa"}).json()
        assert introspection["errors"] and introspection.get("data") is None
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()
