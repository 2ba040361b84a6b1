"""Reversals, returns to stock and closing a work order through GraphQL."""
from __future__ import annotations

from backflush.services.boms import AlternateSpec
from tests.api.conftest import PASSWORD
from tests.builders import Plant, line, post, qa_user, trigger

REQUEST = """
mutation ($trigger: ID!) {
  requestReversal(input: {triggerId: $trigger, reasonCode: "WRONG_ORDER", comment: "booked to WO-1 by mistake"}) {
    reversal { id status reasonCode comment required { count roles meaning } signatures { signerName } }
    userErrors { code field }
  }
}"""

SIGN = """
mutation ($reversal: ID!, $password: String) {
  signReversal(input: {reversalId: $reversal, signature: {meaning: "Reversal approved", password: $password}}) {
    reversal { status executedAt signatures { signerName meaning }
               trigger { reversed postings { quantity reversed lot { lotNumber } } } }
    userErrors { code field message }
  }
}"""

REJECT = """
mutation ($reversal: ID!) {
  rejectReversal(input: {reversalId: $reversal, reason: "not needed"}) { reversal { status } userErrors { code } }
}"""

RETURN = """
mutation ($wo: ID!, $lot: ID!, $to: ID!, $qty: Decimal!, $scan: String!, $exposed: Boolean) {
  returnToStock(input: {workOrderId: $wo, lotId: $lot, toLocationId: $to, quantity: $qty, reasonCode: "LEFTOVER",
                        scannedLotNumber: $scan, exposed: $exposed}) {
    stagedLot { remainingQuantity lot { lotNumber status } } userErrors { code field }
  }
}"""

CLOSE = """
mutation ($wo: ID!, $residuals: [ResidualInput!]) {
  closeWorkOrder(input: {workOrderId: $wo, residuals: $residuals}) {
    workOrder { status variances { component { code } substitutesFor { code } standardQuantity actualQuantity
                usageVariance yieldVariance mixVariance residualVariance variancePercent usageVarianceCost uom } }
    userErrors { code field message }
  }
}"""

ORDER = """
query ($number: String!) { workOrder(number: $number) {
  id triggers(first: 5) { edges { node { id } } }
  stagedLots { lot { id lotNumber } location { id code } }
  site { id }
} }"""

STOCK = """{ workOrder(number: "WO-1") { stagedLots { lot { balances { quantity location { id code kind } } } } } }"""


def reference_plant(sessions):
    plant = Plant(sessions, qa_user(sessions, "planner"))
    plant.item("RM", "kg", 3, standard_cost="2.00")
    plant.item("ALT", "kg", 3, standard_cost="3.00")
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "RM", "0.5", scrap_percent="2", setup_scrap="0.2", scrap_source="line trial",
                          alternates=[AlternateSpec("ALT", "1.1", 1)])])
    rm, alt = plant.receive("RM", "RM-1", "20.000"), plant.receive("ALT", "ALT-1", "5.000")
    order = plant.work_order("WO-1", "FG", "100")
    plant.stage(order, rm, "10.000")
    plant.stage(order, alt, "1.000")
    return plant, order


def order_ids(api) -> dict:
    order = api(ORDER, number="WO-1")["workOrder"]
    lots = {s["lot"]["lotNumber"]: s["lot"]["id"] for s in order["stagedLots"]}
    return {"wo": order["id"], "triggers": [e["node"]["id"] for e in order["triggers"]["edges"]], **lots}


def location_id(api, kind: str) -> str:
    found = {b["location"]["kind"]: b["location"]["id"] for s in api(STOCK)["workOrder"]["stagedLots"]
             for b in s["lot"]["balances"]}
    return found[kind]


def test_a_reversal_is_requested_signed_and_executed_with_its_signatures_on_the_wire(api, sessions):
    plant, order = reference_plant(sessions)
    post(plant, trigger(order, "4"))
    api.principals.add_user("sup", roles=("SUPERVISOR",))
    api.principals.add_client("line-3", scopes=("signatures:sign",))
    ids = order_ids(api)
    requested = api(REQUEST, trigger=ids["triggers"][0])["requestReversal"]
    reversal = requested["reversal"]
    assert requested["userErrors"] == [] and reversal["status"] == "PENDING_SIGNATURES"
    assert reversal["required"] == [{"count": 1, "roles": ["QA", "SUPERVISOR"], "meaning": "Reversal approved"}]
    robot = api.as_("line-3")(SIGN, reversal=reversal["id"], password=None)["signReversal"]
    assert [e["code"] for e in robot["userErrors"]] == ["SIGNATURE_NOT_ALLOWED"]
    wrong = api.as_("sup")(SIGN, reversal=reversal["id"], password="wrong")["signReversal"]
    assert [e["code"] for e in wrong["userErrors"]] == ["SIGNATURE_INVALID"] and wrong["reversal"] is None
    done = api.as_("sup")(SIGN, reversal=reversal["id"], password=PASSWORD)["signReversal"]
    assert done["userErrors"] == [] and done["reversal"]["status"] == "EXECUTED"
    assert done["reversal"]["signatures"] == [{"signerName": "Sup Tester", "meaning": "Reversal approved"}]
    assert done["reversal"]["trigger"] == {"reversed": True, "postings": [
        {"quantity": "2.240", "reversed": True, "lot": {"lotNumber": "RM-1"}}]}
    node = api('query ($id: ID!) { node(id: $id) { ... on Reversal { status reasonCode } } }', id=reversal["id"])
    assert node["node"] == {"status": "EXECUTED", "reasonCode": "WRONG_ORDER"}
    again = api(REQUEST, trigger=ids["triggers"][0])["requestReversal"]
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_REVERSED"]


def test_a_pending_reversal_can_be_rejected_and_then_not_signed(api, sessions):
    plant, order = reference_plant(sessions)
    post(plant, trigger(order, "4"))
    reversal = api(REQUEST, trigger=order_ids(api)["triggers"][0])["requestReversal"]["reversal"]
    assert api(REJECT, reversal=reversal["id"])["rejectReversal"] == {"reversal": {"status": "REJECTED"}, "userErrors": []}
    late = api(SIGN, reversal=reversal["id"], password=PASSWORD)["signReversal"]
    assert [e["code"] for e in late["userErrors"]] == ["REVERSAL_NOT_PENDING"]


def test_returns_and_close_answer_with_user_errors_then_book_the_reference_variances(api, sessions):
    plant, order = reference_plant(sessions)
    post(plant, trigger(order, "15", scrap="1"))
    post(plant, trigger(order, "4"))
    ids = order_ids(api)
    stock = location_id(api, "STOCK")
    unresolved = api(CLOSE, wo=ids["wo"], residuals=None)["closeWorkOrder"]
    assert unresolved["workOrder"] is None
    assert [(e["code"], e["field"], e["message"].split(";")[0]) for e in unresolved["userErrors"]] == [
        ("RESIDUALS_UNRESOLVED", ["input", "residuals"], "lot ALT-1: 0.560 kg still staged")]
    mismatch = api(RETURN, wo=ids["wo"], lot=ids["ALT-1"], to=stock, qty="0.200", scan="RM-1")["returnToStock"]
    assert mismatch["userErrors"] == [{"code": "LOT_SCAN_MISMATCH", "field": ["input", "scannedLotNumber"]}]
    returned = api(RETURN, wo=ids["wo"], lot=ids["ALT-1"], to=stock, qty="0.200", scan="ALT-1")["returnToStock"]
    assert returned["stagedLot"] == {"remainingQuantity": "0.360", "lot": {"lotNumber": "ALT-1", "status": "RELEASED"}}
    scrap = [{"lotId": ids["ALT-1"], "disposition": "SCRAP", "reasonCode": "SPILLED"}]
    closed = api(CLOSE, wo=ids["wo"], residuals=scrap)["closeWorkOrder"]
    assert closed["userErrors"] == [] and closed["workOrder"]["status"] == "CLOSED"
    assert closed["workOrder"]["variances"] == [
        {"component": {"code": "RM"}, "substitutesFor": None, "standardQuantity": "9.690", "actualQuantity": "10.000",
         "usageVariance": "0.310", "yieldVariance": "0.710", "mixVariance": "-0.400", "residualVariance": "0.000",
         "variancePercent": "3.20", "usageVarianceCost": "0.62000", "uom": "kg"},
        {"component": {"code": "ALT"}, "substitutesFor": {"code": "RM"}, "standardQuantity": "0.000",
         "actualQuantity": "0.440", "usageVariance": "0.440", "yieldVariance": "0.000", "mixVariance": "0.440",
         "residualVariance": "0.000", "variancePercent": None, "usageVarianceCost": "1.32000", "uom": "kg"}]
    after = api(RETURN, wo=ids["wo"], lot=ids["RM-1"], to=stock, qty="1.000", scan="RM-1")["returnToStock"]
    assert [e["code"] for e in after["userErrors"]] == ["WORK_ORDER_NOT_OPEN"]


def test_an_exposed_return_over_the_api_quarantines_the_lot(api, sessions):
    plant, order = reference_plant(sessions)
    ids = order_ids(api)
    exposed = api(RETURN, wo=ids["wo"], lot=ids["RM-1"], to=location_id(api, "STOCK"), qty="2.000", scan="RM-1",
                  exposed=True)["returnToStock"]
    assert exposed["stagedLot"] == {"remainingQuantity": "8.000", "lot": {"lotNumber": "RM-1", "status": "QUARANTINE"}}


def test_each_exception_mutation_needs_its_scope(api, sessions):
    plant, order = reference_plant(sessions)
    api.principals.add_client("reader", scopes=("production:read",))
    ids = order_ids(api)
    body = api.as_("reader").raw(CLOSE, {"wo": ids["wo"], "residuals": None}).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
