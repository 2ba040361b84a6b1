"""scanIssue over GraphQL refuses an expired lot with a coded user error and posts nothing."""
from __future__ import annotations

from datetime import timedelta

from api import ids
from models.types import utcnow
from tests.builders import Plant, line, qa_user

SCAN = """
mutation ($wo: ID!, $lot: ID!) {
  scanIssue(input: {workOrderId: $wo, lineNo: 1, lotId: $lot, quantity: "1.500", scannedLotNumber: "API-OLD"}) {
    posting { quantity } userErrors { code field }
  }
}"""


def test_an_expired_lot_is_refused_with_lot_expired(api, sessions):
    plant = Plant(sessions, qa_user(sessions, "planner"))
    plant.item("API", "kg", 3, variable_potency=True)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "API", "0.2", posting_method="SCAN_ISSUE")])
    lot = plant.receive("API", "API-OLD", "5.000", expires_on=utcnow().date() - timedelta(days=1))
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "5.000")
    answer = api(SCAN, wo=ids.encode("WorkOrder", order.id), lot=ids.encode("Lot", lot.id))["scanIssue"]
    assert answer == {"posting": None, "userErrors": [{"code": "LOT_EXPIRED", "field": ["input", "lotId"]}]}
