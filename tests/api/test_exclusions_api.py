"""QA excludes supplier BADCO through GraphQL alone, and the flush draws what the decision says it may."""
from __future__ import annotations

from tests.test_exclusions import badco_plant, eligibility_without_badco

DRAFT = """
mutation ($doc: JSON!) { createRuleSetDraft(input: {name: "eligibility-suppliers", kind: ELIGIBILITY, document: $doc}) {
  ruleSet { id } userErrors { code message } } }"""
APPROVE = """
mutation ($id: ID!) { approveRuleSet(input: {id: $id, signature: {meaning: "Approved", password: "correct horse"}}) {
  ruleSet { status } userErrors { code message } } }"""
POST = """
mutation ($wo: ID!, $good: Decimal!) {
  postTrigger(input: {idempotencyKey: "hmi-1", workOrderId: $wo, kind: GOOD_UNITS_DECLARED, goodQuantity: $good}) {
    trigger { outcome postings { quantity lot { lotNumber } }
              decisions { ruleSet { kind name } fired { ruleId action } } }
    userErrors { code }
  }
}"""


def test_a_qa_authored_badco_exclusion_keeps_badcos_lot_out_of_a_graphql_posting(api, sessions):
    # given WO-1 with BADCO's lot (expiring first) and ACME's staged, binding ids unlike lot ids
    badco_plant(sessions)
    wo = api('{ workOrder(number: "WO-1") { id } }')["workOrder"]["id"]
    # when QA drafts and approves an ELIGIBILITY version excluding supplier BADCO, and 3 units are reported
    draft = api(DRAFT, doc=eligibility_without_badco())["createRuleSetDraft"]
    assert draft["userErrors"] == []
    assert api(APPROVE, id=draft["ruleSet"]["id"])["approveRuleSet"]["ruleSet"]["status"] == "ACTIVE"
    posted = api(POST, wo=wo, good="3")["postTrigger"]["trigger"]
    # then ACME's lot is drawn, and the decision that says BADCO's was excluded is true
    assert posted["outcome"] == "POSTED"
    assert posted["postings"] == [{"quantity": "3.000", "lot": {"lotNumber": "GOOD-1"}}]
    [eligibility] = [d for d in posted["decisions"] if d["ruleSet"]["kind"] == "ELIGIBILITY"]
    assert eligibility == {"ruleSet": {"kind": "ELIGIBILITY", "name": "eligibility-suppliers"},
                           "fired": [{"ruleId": "exclude-badco", "action": "exclude"}]}
