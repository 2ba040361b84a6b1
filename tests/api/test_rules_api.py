"""QA changes what blocks a flush through GraphQL alone: draft, validate, simulate, approve, in force."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

import rules
from backflush.services.work_orders import OperationSpec
from tests.builders import Plant, line, qa_user

POST = """
mutation ($wo: ID!, $key: String!, $device: String!) {
  postTrigger(input: {idempotencyKey: $key, workOrderId: $wo, kind: OPERATION_COMPLETE, goodQuantity: "1",
                      deviceId: $device}) {
    trigger { outcome blockReasons { code message } decisions { version ruleSet { name kind version } fired { ruleId action } } }
    userErrors { code }
  }
}"""
DRAFT = """
mutation ($doc: JSON!) { createRuleSetDraft(input: {name: "blocking-l3", kind: BLOCKING, document: $doc}) {
  ruleSet { id version status } userErrors { code message } } }"""
VALIDATE = """
mutation ($id: ID!) { validateRuleSet(id: $id) { validation { valid errors tests { name passed message } } userErrors { code } } }"""
SIMULATE = """
mutation ($id: ID!, $from: DateTime!, $to: DateTime!) { simulateRuleSet(input: {id: $id, from: $from, to: $to}) {
  evaluated changed details } }"""
APPROVE = """
mutation ($id: ID!) { approveRuleSet(input: {id: $id, signature: {meaning: "Approved", password: "correct horse"}}) {
  ruleSet { status version } userErrors { code message } } }"""

TEST_DEVICE_RULE = {
    "id": "test-devices-on-l3", "description": "Test devices never post on line L3", "fact": "trigger",
    "when": {"$and": [{"work_center": "L3"}, {"$mt": {"device_id": "TEST-.*"}}]},
    "then": {"action": "block", "code": "TEST_DEVICE_ON_L3", "message": "Test devices cannot post on L3"}}
TEST_DEVICE_TESTS = [
    {"name": "a test tablet on L3 is blocked",
     "facts": {"trigger": [{"device_id": "TEST-9", "work_center": "L3", "kind": "OPERATION_COMPLETE"}]},
     "expect": [{"rule": "test-devices-on-l3", "action": "block", "code": "TEST_DEVICE_ON_L3"}]},
    {"name": "a production HMI on L3 is not",
     "facts": {"trigger": [{"device_id": "HMI-2", "work_center": "L3", "kind": "OPERATION_COMPLETE"}]},
     "expect": []},
]


def blocking_draft(extra_rules=(), extra_tests=()) -> dict:
    """QA's new version: the shipped default plus their rule, as one document."""
    document = yaml.safe_load(rules.default_source("BLOCKING"))
    document["rules"] += list(extra_rules)
    document["tests"] += list(extra_tests)
    return document


def line_l3(api, sessions):
    plant = Plant(sessions, qa_user(sessions, "planner"))
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    lot = plant.receive("A", "A-1", "100.000")
    order = plant.work_order("WO-1", "FG", operations=[OperationSpec(10, "Fill", work_center="L3")])
    plant.stage(order, lot, "100.000")
    return api('{ workOrder(number: "WO-1") { id } }')["workOrder"]["id"]


def test_qa_blocks_test_devices_on_line_l3_without_a_code_change(api, sessions):
    wo = line_l3(api, sessions)
    history = {key: api(POST, wo=wo, key=key, device=device)["postTrigger"]["trigger"]["outcome"]
               for key, device in (("h1", "TEST-7"), ("h2", "HMI-2"), ("h3", "TEST-8"))}
    assert set(history.values()) == {"POSTED"}

    draft = api(DRAFT, doc=blocking_draft([TEST_DEVICE_RULE], TEST_DEVICE_TESTS))["createRuleSetDraft"]["ruleSet"]
    assert draft["status"] == "DRAFT"
    validation = api(VALIDATE, id=draft["id"])["validateRuleSet"]["validation"]
    assert validation["valid"] is True, validation
    assert {t["name"]: t["passed"] for t in validation["tests"]}["a test tablet on L3 is blocked"] is True

    now = datetime.now(UTC)
    simulated = api(SIMULATE, id=draft["id"], **{"from": (now - timedelta(days=7)).isoformat(),
                                                 "to": (now + timedelta(minutes=1)).isoformat()})["simulateRuleSet"]
    assert simulated["evaluated"] == 3 and simulated["changed"] == 2
    assert sorted(d["idempotency_key"] for d in simulated["details"]) == ["h1", "h3"]
    assert all(d["after"] == ["block:TEST_DEVICE_ON_L3"] for d in simulated["details"])

    approved = api(APPROVE, id=draft["id"])["approveRuleSet"]
    assert approved["userErrors"] == [] and approved["ruleSet"]["status"] == "ACTIVE"
    blocked = api(POST, wo=wo, key="n1", device="TEST-9")["postTrigger"]["trigger"]
    assert blocked["outcome"] == "BLOCKED"
    assert [r["code"] for r in blocked["blockReasons"]] == ["TEST_DEVICE_ON_L3"]
    [decision] = [d for d in blocked["decisions"] if d["ruleSet"]["kind"] == "BLOCKING"]
    assert decision["ruleSet"] == {"name": "blocking-l3", "kind": "BLOCKING", "version": 1}
    assert decision["fired"] == [{"ruleId": "test-devices-on-l3", "action": "block"}]
    assert api(POST, wo=wo, key="n2", device="HMI-2")["postTrigger"]["trigger"]["outcome"] == "POSTED"
    statuses = {r["name"]: r["status"] for r in api("{ ruleSets(kind: BLOCKING) { name status } }")["ruleSets"]}
    assert statuses == {"default-blocking": "SUPERSEDED", "blocking-l3": "ACTIVE"}


BROKEN = {
    "syntax": ("rules: [ {id: x", "DOCUMENT_SYNTAX"),
    "unknown field": ({**TEST_DEVICE_RULE, "when": {"$mt": {"device_name": "TEST-.*"}}}, "test-devices-on-l3"),
    "unknown action": ({**TEST_DEVICE_RULE, "then": {"action": "halt", "code": "X", "message": "x"}}, "test-devices-on-l3"),
    "failing test": ({**TEST_DEVICE_RULE, "when": {"$mt": {"device_id": "PROD-.*"}}}, "test-devices-on-l3"),
}


def test_broken_drafts_cannot_be_approved_and_the_errors_name_the_rule(api, sessions):
    for case, (rule, named) in BROKEN.items():
        document = rule if isinstance(rule, str) else blocking_draft([rule], TEST_DEVICE_TESTS)
        created = api(DRAFT, doc=document)["createRuleSetDraft"]
        if created["ruleSet"] is None:
            assert [e["code"] for e in created["userErrors"]] == [named], case
            continue
        validation = api(VALIDATE, id=created["ruleSet"]["id"])["validateRuleSet"]["validation"]
        assert validation["valid"] is False, case
        assert any(named in error for error in validation["errors"]), (case, validation["errors"])
        refused = api(APPROVE, id=created["ruleSet"]["id"])["approveRuleSet"]
        assert [e["code"] for e in refused["userErrors"]] == ["RULE_SET_INVALID"], case
