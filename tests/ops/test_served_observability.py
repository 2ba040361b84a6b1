"""A real `backflush serve --workers 2`: one scrape sums every worker, and every log line is JSON with its request id."""
from __future__ import annotations

import json
from collections import Counter

import httpx
from prometheus_client.parser import text_string_to_metric_families

from auth.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tests.ops import served

SCRAPE_TOKEN = "scrape-me"
POST = """mutation ($wo: ID!, $key: String!) { postTrigger(input: {idempotencyKey: $key, workOrderId: $wo,
  kind: GOOD_UNITS_DECLARED, goodQuantity: "12"}) { replayed trigger { outcome } userErrors { code } } }"""


def trigger_counts(base: str) -> dict[str, float]:
    response = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200, response.text
    return {sample.labels["outcome"]: sample.value for family in text_string_to_metric_families(response.text)
            for sample in family.samples if sample.name == "backflush_triggers_total"}


def test_every_scrape_of_a_multi_worker_server_counts_every_trigger_posted_and_logs_are_json(database_url, tmp_path):
    port = served.free_port()
    env = served.environment(database_url, BACKFLUSH_METRICS_TOKEN=SCRAPE_TOKEN,
                             PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"))
    server = served.start([str(served.BIN / "backflush"), "serve", "--demo", "--workers", "2", "--port", str(port)],
                          tmp_path=tmp_path, env=env, port=port, timeout=120)
    try:
        token = httpx.post(f"{server.base}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                           data={"grant_type": "client_credentials", "scope": "triggers:write production:read"}
                           ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        wo = httpx.post(f"{server.base}/graphql", headers=headers,
                        json={"query": '{ workOrder(number: "WO-DEMO-1") { id } }'}).json()["data"]["workOrder"]["id"]
        outcomes = Counter()
        for n in range(8):  # a new connection each time, so the kernel spreads them over both workers
            response = httpx.post(f"{server.base}/graphql", json={"query": POST, "variables": {"wo": wo, "key": f"t{n}"}},
                                  headers={**headers, "X-Request-ID": f"e2e-{n}"})
            assert response.headers["x-request-id"] == f"e2e-{n}"
            outcomes[response.json()["data"]["postTrigger"]["trigger"]["outcome"]] += 1
        scrapes = [trigger_counts(server.base) for _ in range(6)]
    finally:
        status = server.stop()

    assert sum(outcomes.values()) == 8
    assert all(scrape == dict(outcomes) for scrape in scrapes), (scrapes, outcomes)
    assert status == 0
    lines = [json.loads(line) for line in server.logs().splitlines() if line.strip()]  # every line is JSON
    posted = [line for line in lines if line.get("request_id") == "e2e-3" and line["event"] == "request"]
    assert len(posted) == 1 and posted[0]["path"] == "/graphql" and posted[0]["status"] == 200
    assert any(line["logger"].startswith("uvicorn") for line in lines)
