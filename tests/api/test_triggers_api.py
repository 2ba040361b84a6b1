"""Triggers through GraphQL: exact postings as strings, replays, previews, blocks — and the subscription."""
from __future__ import annotations

import json
import socket
import threading
import time

import uvicorn
from websockets.sync.client import connect

from api.app import create_app
from backflush.reads import records as reads
from kernel.settings import Settings
from tests.builders import Plant, line, qa_user

POST = """
mutation ($wo: ID!, $key: String!, $good: Decimal!, $scrap: Decimal) {
  postTrigger(input: {idempotencyKey: $key, workOrderId: $wo, kind: GOOD_UNITS_DECLARED, goodQuantity: $good,
                      scrapQuantity: $scrap, deviceId: "TAB-7"}) {
    replayed userErrors { code field }
    trigger { id outcome goodQuantity deviceId
              postings { lineNo quantity uom method lot { lotNumber } component { code } reversed }
              blockReasons { code required eligible component { code } }
              deviation { number status } }
  }
}"""

PREVIEW = """
query ($wo: ID!, $good: Decimal!) {
  previewTrigger(input: {idempotencyKey: "preview", workOrderId: $wo, kind: OPERATION_COMPLETE, goodQuantity: $good}) {
    outcome draws { lineNo quantity uom lot { lotNumber } location { code } component { code } }
    blockReasons { code } userErrors { code }
  }
}"""

ORDER_HISTORY = """
query ($number: String!) { workOrder(number: $number) {
  status operations { seq goodQuantity scrapQuantity }
  triggers(first: 10) { edges { node { outcome } } pageInfo { hasNextPage } }
  flushPostings(first: 1) { edges { node { quantity } cursor } pageInfo { hasNextPage endCursor } }
} }"""


def mass_plant(sessions):
    plant = Plant(sessions, qa_user(sessions, "planner"))
    plant.item("C", "kg", 4)
    plant.item("FG", "ea", 0)
    plant.conversion(None, "g", "kg", "0.001")
    plant.bom("FG", [line(1, "C", "0.5", "g", scrap_percent="2", scrap_source="trial")])
    lot = plant.receive("C", "C-1", "1.0000")
    order = plant.work_order("WO-1", "FG", "5000")
    plant.stage(order, lot, "1.0000")
    return plant, order


def order_id(api) -> str:
    return api('{ workOrder(number: "WO-1") { id } }')["workOrder"]["id"]


def test_a_trigger_posts_the_exact_quantity_as_a_decimal_string_and_replays(api, sessions):
    mass_plant(sessions)
    wo = order_id(api)
    first = api(POST, wo=wo, key="hmi-1", good="1000", scrap="20")["postTrigger"]
    assert first["userErrors"] == [] and first["replayed"] is False
    assert first["trigger"]["postings"] == [{"lineNo": 1, "quantity": "0.5202", "uom": "kg", "method": "BACKFLUSH",
                                             "lot": {"lotNumber": "C-1"}, "component": {"code": "C"}, "reversed": False}]
    replay = api(POST, wo=wo, key="hmi-1", good="1000", scrap="20")["postTrigger"]
    assert replay["replayed"] is True and replay["trigger"]["id"] == first["trigger"]["id"]
    reused = api(POST, wo=wo, key="hmi-1", good="999", scrap="20")["postTrigger"]
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    history = api(ORDER_HISTORY, number="WO-1")["workOrder"]
    assert history["status"] == "IN_PROGRESS"
    assert history["operations"] == [{"seq": 10, "goodQuantity": "1000", "scrapQuantity": "20"}]
    assert history["flushPostings"]["edges"][0]["node"]["quantity"] == "0.5202"


def test_preview_answers_what_a_post_would_do_and_writes_nothing(api, sessions):
    mass_plant(sessions)
    wo = order_id(api)
    preview = api(PREVIEW, wo=wo, good="1000")["previewTrigger"]
    assert preview["outcome"] == "POSTED"
    assert preview["draws"] == [{"lineNo": 1, "quantity": "0.5100", "uom": "kg", "lot": {"lotNumber": "C-1"},
                                 "location": {"code": "WIP"}, "component": {"code": "C"}}]
    assert api(ORDER_HISTORY, number="WO-1")["workOrder"]["triggers"]["edges"] == []
    too_much = api(PREVIEW, wo=wo, good="2000")["previewTrigger"]
    assert too_much["outcome"] == "BLOCKED" and [r["code"] for r in too_much["blockReasons"]] == ["INSUFFICIENT_STAGED_STOCK"]
    malformed = api(PREVIEW, wo=wo, good="1,000")["previewTrigger"]
    assert [e["code"] for e in malformed["userErrors"]] == ["INVALID_DECIMAL"]


def test_a_short_trigger_is_blocked_with_its_reason_and_a_deviation(api, sessions):
    mass_plant(sessions)
    blocked = api(POST, wo=order_id(api), key="hmi-2", good="2000")["postTrigger"]["trigger"]
    assert blocked["outcome"] == "BLOCKED" and blocked["postings"] == []
    assert blocked["blockReasons"] == [{"code": "INSUFFICIENT_STAGED_STOCK", "required": "1.0200", "eligible": "1.0000",
                                        "component": {"code": "C"}}]
    assert blocked["deviation"]["status"] == "OPEN" and blocked["deviation"]["number"].startswith("DEV-")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_trigger_outcomes_arrive_over_a_real_websocket(api, sessions, database_url, monkeypatch):
    mass_plant(sessions)
    wo = order_id(api)
    # The subscription reports what happens after its starting point: wait for that point, not for a guess.
    started, audit_position = threading.Event(), reads.audit_position

    def position_then_signal(session):
        position = audit_position(session)
        started.set()
        return position

    monkeypatch.setattr(reads, "audit_position", position_then_signal)
    app = create_app(Settings(database_url=database_url), authenticate=api.principals.authenticate)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        with connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer qa"}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription ($wo: ID) { triggerOutcomes(workOrderId: $wo) { outcome goodQuantity } }",
                "variables": {"wo": wo}}}))
            assert started.wait(timeout=10), "the subscription never took its starting point"
            api(POST, wo=wo, key="ws-1", good="100")
            message = json.loads(ws.recv(timeout=10))
            assert message["type"] == "next"
            assert message["payload"]["data"]["triggerOutcomes"] == {"outcome": "POSTED", "goodQuantity": "100"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_websocket_without_a_token_is_refused(api, database_url):
    app = create_app(Settings(database_url=database_url), authenticate=api.principals.authenticate)
    from starlette.testclient import TestClient
    with TestClient(app) as client, client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == 4403
