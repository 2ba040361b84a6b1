"""The README's walk-through, run exactly as printed, against a demo served the way a new clone serves it.

The shell blocks between the walkthrough markers are joined and run by bash, as a reader pasting them in
order would; only BACKFLUSH_URL (which the README defaults) points them at the test's port.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.ops import served

README = served.ROOT / "README.md"


def walkthrough_blocks() -> list[str]:
    region = README.read_text().split("<!-- walkthrough")[1].split("<!-- /walkthrough -->")[0]
    return re.findall(r"```sh\n(.*?)\n```", region, re.S)


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> list[dict]:
    """Every JSON answer the walk-through printed, in order, from `python3 dev.py serve` on a new database."""
    home = tmp_path_factory.mktemp("fresh-clone")
    port = served.free_port()
    env = served.environment(f"sqlite:///{home}/backflush.db")
    server = served.start([sys.executable, str(served.ROOT / "dev.py"), "serve", "--port", str(port)],
                          tmp_path=home, env=env, port=port)
    try:
        script = "set -euo pipefail\n" + "\n".join(walkthrough_blocks())
        run = subprocess.run(["bash", "-c", script], cwd=home, capture_output=True, text=True, timeout=300,
                             env={**env, "BACKFLUSH_URL": server.base})
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr + run.stdout
    assert run.stderr == ""
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_the_walkthrough_has_a_block_for_every_step_of_the_headline_flow():
    script = "\n".join(walkthrough_blocks())
    for step in ("oauth/token", "sites", "workOrder(number", "postTrigger", "flushPostings", "genealogy(",
                 "requestReversal", "signReversal", "blockedTriggers", "retryTrigger"):
        assert step in script, step


def test_every_request_of_the_walkthrough_succeeds(answers):
    assert len(answers) == 13
    for answer in answers:
        assert "errors" not in answer, answer
        for payload in answer["data"].values():
            assert not (isinstance(payload, dict) and payload.get("userErrors")), payload


def test_discovery_names_the_demo_site_its_locations_and_lots(answers):
    found = answers[0]["data"]
    assert found["sites"] == [{"code": "PLANT-1", "name": "Demo plant, solid dose"}]
    assert [l["code"] for l in found["locations"]] == ["FINISHED-01", "QUARANTINE-01", "STOCK-01", "WIP-01"]
    assert [e["node"]["code"] for e in found["items"]["edges"]] == ["API-IBU", "BTL-60", "LBL-IBU", "CTN-12", "FG-IBU-30"]
    assert [e["node"]["lotNumber"] for e in found["lots"]["edges"]] == ["API-24-0117", "API-24-0211"]
    staged = answers[1]["data"]["workOrder"]["stagedLots"]
    assert [(s["lot"]["lotNumber"], s["remainingQuantity"]) for s in staged] == [
        ("API-24-0117", "1.000"), ("BTL-3301", "250"), ("LBL-0991", "260"), ("CTN-1202", "25")]


def postings(trigger: dict) -> list[tuple]:
    return [(p["component"]["code"], p["lot"]["lotNumber"], p["quantity"]) for p in trigger["postings"]]


def test_the_first_triggers_post_at_once_fill_at_operation_10_then_pack_at_the_last(answers):
    fill, pack = answers[2]["data"]["postTrigger"]["trigger"], answers[3]["data"]["postTrigger"]["trigger"]
    assert fill["outcome"] == "POSTED" and fill["blockReasons"] == []
    assert postings(fill) == [("API-IBU", "API-24-0117", "0.734"), ("BTL-60", "BTL-3301", "120"),
                              ("LBL-IBU", "LBL-0991", "125")]
    assert (pack["outcome"], pack["operationSeq"]) == ("POSTED", 20)
    assert postings(pack) == [("CTN-12", "CTN-1202", "10")]
    order = answers[4]["data"]["workOrder"]
    assert len(order["flushPostings"]["edges"]) == 4
    assert order["outputLot"]["balances"] == [{"quantity": "120", "uom": "ea", "location": {"code": "FINISHED-01"}}]


def test_genealogy_links_each_component_lot_once_and_a_reversal_signed_by_the_supervisor_executes(answers):
    edges = answers[5]["data"]["genealogy"]["edges"]
    assert [(e["from"]["lotNumber"], e["quantity"], e["uom"], e["reversed"]) for e in edges] == [
        ("API-24-0117", "0.734", "kg", False), ("BTL-3301", "120", "ea", False), ("LBL-0991", "125", "ea", False),
        ("CTN-1202", "10", "ea", False)]
    assert answers[6]["data"]["requestReversal"]["reversal"]["status"] == "PENDING_SIGNATURES"
    signed = answers[7]["data"]["signReversal"]["reversal"]
    assert signed == {"status": "EXECUTED", "signatures": [{"signerName": "Demo Supervisor", "meaning": "Approved"}]}
    after = answers[8]["data"]
    assert [(e["from"]["lotNumber"], e["reversed"]) for e in after["genealogy"]["edges"]][-1] == ("CTN-1202", True)
    assert after["lot"]["balances"] == []


def test_a_blocked_fill_waits_in_the_worklist_and_posts_once_more_api_is_staged(answers):
    blocked = answers[9]["data"]["postTrigger"]["trigger"]
    assert blocked["outcome"] == "BLOCKED" and blocked["postings"] == []
    [entry] = answers[10]["data"]["blockedTriggers"]["edges"]
    assert entry["node"]["idempotencyKey"] == "demo-fill-2" and entry["node"]["ageSeconds"] >= 0
    assert entry["node"]["blockReasons"] == [{"code": "INSUFFICIENT_STAGED_STOCK", "required": "0.735",
                                              "eligible": "0.266", "uom": "kg", "component": {"code": "API-IBU"}}]
    retried = answers[12]["data"]["retryTrigger"]["trigger"]
    assert retried["outcome"] == "POSTED" and retried["blockReasons"] == []
    assert [(a["number"], a["outcome"]) for a in retried["attempts"]] == [(1, "BLOCKED"), (2, "POSTED")]
    assert postings(retried)[:2] == [("API-IBU", "API-24-0117", "0.266"), ("API-IBU", "API-24-0211", "0.469")]
