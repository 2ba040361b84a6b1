"""`backflush serve` as a real process: a machine integration gets a token and is held to its scopes."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from auth.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "BACKFLUSH_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('serve')}/demo.db",
           "BACKFLUSH_AUTH_ISSUER": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen([str(BIN / "backflush"), "serve", "--demo", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("server did not become healthy: " + process.communicate()[0][-3000:])
    yield base
    process.terminate()
    process.wait(timeout=20)


def client_token(base: str, scope: str) -> str:
    response = httpx.post(f"{base}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                          data={"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def graphql(base: str, token: str, query: str, **variables) -> httpx.Response:
    return httpx.post(f"{base}/graphql", json={"query": query, "variables": variables},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)


PREVIEW = """query ($wo: ID!) { previewTrigger(input: {idempotencyKey: "p", workOrderId: $wo, kind: OPERATION_COMPLETE,
  operationSeq: 10, goodQuantity: "12"}) { outcome draws { quantity uom component { code } } } }"""


def test_health_reports_a_reachable_database(server):
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok", "database": "reachable"}


def test_an_integration_token_may_post_triggers_but_not_write_master_data(server):
    token = client_token(server, "triggers:write production:read")
    order = graphql(server, token, '{ workOrder(number: "WO-DEMO-1") { id bom { lines { quantity } } } }').json()
    assert order["data"]["workOrder"]["bom"]["lines"][0]["quantity"] == "72"
    preview = graphql(server, token, PREVIEW, wo=order["data"]["workOrder"]["id"]).json()
    # The demo stages its lots: filling 12 bottles would post at once, with the 5 set-up labels.
    assert preview["data"]["previewTrigger"] == {"outcome": "POSTED", "draws": [
        {"quantity": "0.073", "uom": "kg", "component": {"code": "API-IBU"}},
        {"quantity": "12", "uom": "ea", "component": {"code": "BTL-60"}},
        {"quantity": "17", "uom": "ea", "component": {"code": "LBL-IBU"}}]}
    refused = graphql(server, token, 'mutation { createItem(input: {code: "X", name: "X", baseUom: "kg", precision: 3}) '
                                     '{ item { code } } }').json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["data"] is None


def test_a_scope_the_client_does_not_hold_is_refused_at_the_token_endpoint(server):
    response = httpx.post(f"{server}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                          data={"grant_type": "client_credentials", "scope": "masterdata:write"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_tampered_and_foreign_tokens_get_401(server):
    token = client_token(server, "production:read")
    header, payload, signature = token.split(".")
    tampered = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    for bad in (tampered, "not-a-jwt"):
        response = graphql(server, bad, "{ item(code: \"API-IBU\") { code } }")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    anonymous = httpx.post(f"{server}/graphql", json={"query": "{ item(code: \"API-IBU\") { code } }"})
    assert anonymous.status_code == 401


def test_the_password_grant_is_not_offered(server):
    response = httpx.post(f"{server}/oauth/token", data={"grant_type": "password", "username": "qa",
                                                          "password": DEMO_PASSWORD, "client_id": DEMO_CLIENT_ID})
    assert response.status_code in (400, 401) and response.json()["error"] in ("unsupported_grant_type", "invalid_client")


def test_graphiql_is_served_to_a_browser_without_a_token(server):
    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
