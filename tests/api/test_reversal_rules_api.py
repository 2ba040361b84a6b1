"""QA raises the signatures a reversal needs by approving a new REVERSAL_SIGNATURE version: the next
reversal asks for them, in the same running server, without a restart."""
from __future__ import annotations

import yaml

import rules
from api import ids
from tests.builders import Plant, line, post, qa_user, trigger

REQUEST = """
mutation ($t: ID!, $reason: String!) { requestReversal(input: {triggerId: $t, reasonCode: $reason}) {
  reversal { status required { count roles meaning } } userErrors { code message } } }"""
DRAFT = """
mutation ($doc: JSON!) { createRuleSetDraft(input: {name: "reversal-two-signers", kind: REVERSAL_SIGNATURE,
  document: $doc}) { ruleSet { id } userErrors { code message } } }"""
APPROVE = """
mutation ($id: ID!) { approveRuleSet(input: {id: $id, signature: {meaning: "Approved", password: "correct horse"}}) {
  ruleSet { status } userErrors { code message } } }"""


def two_posted_triggers(sessions):
    plant = Plant(sessions, qa_user(sessions, "planner"))
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    lot = plant.receive("A", "A-1", "10.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "10.000")
    return [ids.encode("Trigger", post(plant, trigger(order, "1")).trigger.id) for _ in range(2)]


def test_a_new_reversal_signature_version_changes_the_next_reversal_without_a_restart(api, sessions):
    first, second = two_posted_triggers(sessions)
    before = api(REQUEST, t=first, reason="WRONG_ORDER")["requestReversal"]["reversal"]
    assert before["required"] == [{"count": 1, "roles": ["QA", "SUPERVISOR"], "meaning": "Reversal approved"}]

    document = yaml.safe_load(rules.default_source("REVERSAL_SIGNATURE"))
    document["rules"][0]["then"]["count"] = 2  # every reversal: two SUPERVISOR or QA signers
    for test in document["tests"]:
        for expectation in test["expect"]:
            if expectation.get("rule") == "one-signature" and "count" in expectation:
                expectation["count"] = 2
    draft = api(DRAFT, doc=document)["createRuleSetDraft"]
    assert draft["userErrors"] == [], draft
    approved = api(APPROVE, id=draft["ruleSet"]["id"])["approveRuleSet"]
    assert approved["userErrors"] == [] and approved["ruleSet"]["status"] == "ACTIVE"

    after = api(REQUEST, t=second, reason="WRONG_ORDER")["requestReversal"]["reversal"]
    assert after["required"] == [{"count": 2, "roles": ["QA", "SUPERVISOR"], "meaning": "Reversal approved"}]
