"""Label approval and NCMRs over GraphQL: signed by QA, refusals as userErrors, other sites' records absent."""
from api import ids
from tests.api.conftest import PASSWORD
from tests.builders import Plant, line, qa_user

CREATE_LABEL = """mutation ($wo: ID!) { createLabelVersion(input: {workOrderId: $wo, content: "FG label v1"}) {
  labelVersion { id version status } userErrors { code } } }"""
APPROVE_LABEL = """mutation ($id: ID!, $password: String) { approveLabelVersion(input: {labelVersionId: $id,
  signature: {meaning: "Approved", password: $password}}) { labelVersion { status signatures { signerName meaning } }
  userErrors { code } } }"""
OPEN_NCMR = """mutation ($lot: ID!) { openNcmr(input: {lotId: $lot, description: "Torn bag"}) {
  ncmr { id number status lot { status } } userErrors { code } } }"""
DISPOSITION = """mutation ($id: ID!, $password: String) { dispositionNcmr(input: {ncmrId: $id, disposition: REJECTED,
  reason: "contaminated", signature: {meaning: "Rejected", password: $password}}) {
  ncmr { status disposition lot { status } signatures { meaning } } userErrors { code } } }"""


def plant_with_order(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    return plant, plant.receive("C", "C-1", "5.000"), plant.work_order("WO-1", "FG")


def test_qa_approves_a_label_version_with_a_signature_and_another_site_cannot_see_it(api, sessions):
    _, _, order = plant_with_order(sessions)
    created = api(CREATE_LABEL, wo=ids.encode("WorkOrder", order.id))["createLabelVersion"]
    assert (created["labelVersion"]["version"], created["labelVersion"]["status"]) == (1, "DRAFT")
    api.principals.add_user("far", roles=("QA",), sites=("ELSEWHERE",))
    far = api.as_("far")(APPROVE_LABEL, id=created["labelVersion"]["id"], password=PASSWORD)["approveLabelVersion"]
    assert far == {"labelVersion": None, "userErrors": [{"code": "NOT_FOUND"}]}
    approved = api(APPROVE_LABEL, id=created["labelVersion"]["id"], password=PASSWORD)["approveLabelVersion"]
    assert approved["labelVersion"] == {"status": "APPROVED",
                                        "signatures": [{"signerName": "Qa Tester", "meaning": "Approved"}]}


def test_an_ncmr_holds_the_lot_until_qa_rejects_it_with_a_signature(api, sessions):
    _, lot, _ = plant_with_order(sessions)
    opened = api(OPEN_NCMR, lot=ids.encode("Lot", lot.id))["openNcmr"]["ncmr"]
    assert (opened["status"], opened["lot"]) == ("OPEN", {"status": "ON_HOLD"})
    wrong = api(DISPOSITION, id=opened["id"], password=None)["dispositionNcmr"]
    assert wrong["ncmr"] is None and wrong["userErrors"][0]["code"].startswith("SIGNATURE")
    done = api(DISPOSITION, id=opened["id"], password=PASSWORD)["dispositionNcmr"]["ncmr"]
    assert done == {"status": "DISPOSITIONED", "disposition": "REJECTED", "lot": {"status": "REJECTED"},
                    "signatures": [{"meaning": "Rejected"}]}
