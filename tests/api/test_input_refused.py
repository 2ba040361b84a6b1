"""Input refused at the door: every case of issue 10 item 5 gets its exact code, and nothing is written.

Domain-level refusals (text, decimals, dates, times, ids, serials, expiry) come back as `userErrors`
with a code and the input path; values graphql-core cannot coerce to the schema's own types (an Int out
of 32 bits, an unknown enum value, an object for a String) as a GraphQL error coded BAD_USER_INPUT.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

import models
from api.ids import encode
from api.input_limits import TEXT_LIMITS
from api.schema import build_schema
from backflush.services.demo import seed_demo
from models import Location, Lot, RuleSet, WorkOrder

RECEIVE = """
mutation ($input: ReceiveGoodsInput!) {
  receiveGoods(input: $input) { lot { id } userErrors { code field message } }
}"""

POST = """
mutation ($input: PostTriggerInput!) {
  postTrigger(input: $input) { trigger { id } userErrors { code field message } }
}"""

CREATE_ITEM = """
mutation ($input: CreateItemInput!) {
  createItem(input: $input) { item { id } userErrors { code field message } }
}"""

CREATE_BOM = """
mutation ($input: CreateBomInput!) {
  createBom(input: $input) { bom { id } userErrors { code field message } }
}"""

CREATE_SITE = """
mutation ($input: CreateSiteInput!) {
  createSite(input: $input) { site { id } userErrors { code field message } }
}"""

APPROVE_RULE_SET = """
mutation ($input: ApproveInput!) {
  approveRuleSet(input: $input) { ruleSet { id } userErrors { code field message } }
}"""

SIMULATE = """
mutation ($input: SimulateRuleSetInput!) {
  simulateRuleSet(input: $input) { evaluated userErrors { code field message } }
}"""

RULE_DRAFT = """
mutation ($input: RuleSetDraftInput!) {
  createRuleSetDraft(input: $input) { ruleSet { id } userErrors { code field message } }
}"""

STAGE = """
mutation ($input: StageLotInput!) {
  stageLot(input: $input) { stagedLot { stagedQuantity } userErrors { code field message } }
}"""

PREVIEW = """
query ($input: PostTriggerInput!) {
  previewTrigger(input: $input) { outcome userErrors { code field message } }
}"""

WORK_ORDER = """query ($number: String!) { workOrder(number: $number) { id } }"""


@pytest.fixture
def plant(api, sessions) -> dict:
    seed_demo(sessions)
    with sessions() as s:
        location = {l.kind: encode("Location", l.id) for l in s.scalars(select(Location))}
        lot = s.scalar(select(Lot).where(Lot.lot_number == "API-24-0117"))
        return {"stock": location["STOCK"], "wip": location["WIP"], "lot": encode("Lot", lot.id),
                "order": encode("WorkOrder", s.scalar(select(WorkOrder.id))),
                "rule_set": encode("RuleSet", s.scalar(select(RuleSet.id)))}


def receipt(plant, **changes) -> dict:
    return {"itemCode": "API-IBU", "lotNumber": "API-NEW-1", "quantity": "1.000", "locationId": plant["stock"],
            "expiresOn": "2027-06-30", "supplier": "Demo Supplier GmbH", "deviceId": "SCAN-1", **changes}


def trigger(plant, **changes) -> dict:
    return {"idempotencyKey": "k-1", "workOrderId": plant["order"], "kind": "GOOD_UNITS_DECLARED",
            "goodQuantity": "12", "deviceId": "TAB-7", "deviceTimestamp": "2026-01-01T08:00:00Z", **changes}


def item(**changes) -> dict:
    return {"code": "NEW-ITEM", "name": "A new item", "baseUom": "kg", "precision": 3, **changes}


def send(api, document: str, variables: dict):
    """Posted as ASCII JSON, so a lone surrogate travels as the escape a hostile client would send."""
    return api.client.post("/graphql", content=json.dumps({"query": document, "variables": variables}),
                           headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"})


def row_counts(sessions) -> dict[str, int]:
    with sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in models.metadata.sorted_tables}


FORTY_DIGITS = "1" * 40
TEN_THOUSAND_SERIALS = [f"SN-{n:05}" for n in range(10_000)]

# (document, input builder, expected code, expected field)
CASES = [
    # the decimal grammar: ASCII digits, a sign, a point; nothing else
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="1_0"), "INVALID_DECIMAL", ["input", "quantity"], id="underscore"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="１２"), "INVALID_DECIMAL", ["input", "quantity"], id="full-width"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="٣"), "INVALID_DECIMAL", ["input", "quantity"], id="arabic-digit"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="1e400"), "INVALID_DECIMAL", ["input", "quantity"], id="exponent"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="1E2"), "INVALID_DECIMAL", ["input", "quantity"], id="exponent-E"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="NaN"), "INVALID_DECIMAL", ["input", "quantity"], id="nan"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="-Infinity"), "INVALID_DECIMAL", ["input", "quantity"], id="inf"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity=" 1"), "INVALID_DECIMAL", ["input", "quantity"], id="blank"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="0x10"), "INVALID_DECIMAL", ["input", "quantity"], id="hex"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity=""), "INVALID_DECIMAL", ["input", "quantity"], id="empty"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity=1.5), "INVALID_DECIMAL", ["input", "quantity"], id="json-float"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity=FORTY_DIGITS), "DECIMAL_OUT_OF_RANGE", ["input", "quantity"],
                 id="forty-digits"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity=10 ** 40), "DECIMAL_OUT_OF_RANGE", ["input", "quantity"],
                 id="forty-digit-json-int"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="0." + "0" * 20 + "1"), "DECIMAL_OUT_OF_RANGE",
                 ["input", "quantity"], id="twenty-one-decimals"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="1.0001"), "QUANTITY_PRECISION", ["input", "quantity"],
                 id="over-item-precision"),
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="-0"), "QUANTITY_NOT_POSITIVE", ["input", "quantity"],
                 id="negative-zero"),
    pytest.param(POST, lambda p: trigger(p, goodQuantity="1.5"), "QUANTITY_PRECISION", ["input", "goodQuantity"],
                 id="trigger-over-precision"),
    pytest.param(POST, lambda p: trigger(p, scrapQuantity="1e400"), "INVALID_DECIMAL", ["input", "scrapQuantity"],
                 id="trigger-exponent"),
    pytest.param(CREATE_ITEM, lambda p: item(standardCost="Infinity"), "INVALID_DECIMAL", ["input", "standardCost"],
                 id="cost-infinity"),
    pytest.param(CREATE_BOM, lambda p: {"itemCode": "FG-IBU-30", "lines": [
        {"lineNo": 1, "componentCode": "API-IBU", "quantity": "１", "uom": "kg"}]},
                 "INVALID_DECIMAL", ["input", "lines", "0", "quantity"], id="nested-bom-line"),
    # text: length from the column, no control characters
    pytest.param(RECEIVE, lambda p: receipt(p, supplier="S" * 121), "TOO_LONG", ["input", "supplier"], id="supplier-long"),
    pytest.param(RECEIVE, lambda p: receipt(p, deviceId="D" * 81), "TOO_LONG", ["input", "deviceId"], id="device-long"),
    pytest.param(POST, lambda p: trigger(p, deviceId="D" * 81), "TOO_LONG", ["input", "deviceId"], id="trigger-device-long"),
    pytest.param(POST, lambda p: trigger(p, idempotencyKey="k" * 201), "TOO_LONG", ["input", "idempotencyKey"],
                 id="idempotency-key-long"),
    pytest.param(RECEIVE, lambda p: receipt(p, supplier="Demo\x00GmbH"), "CONTROL_CHARACTER", ["input", "supplier"],
                 id="nul"),
    pytest.param(RECEIVE, lambda p: receipt(p, lotNumber="API-\x1b[31m"), "CONTROL_CHARACTER", ["input", "lotNumber"],
                 id="escape"),
    pytest.param(RECEIVE, lambda p: receipt(p, lotNumber="API-\u0085"), "CONTROL_CHARACTER", ["input", "lotNumber"],
                 id="c1-control"),
    pytest.param(RECEIVE, lambda p: receipt(p, lotNumber="API-1\n"), "CONTROL_CHARACTER", ["input", "lotNumber"],
                 id="line-break-in-a-code"),
    pytest.param(RECEIVE, lambda p: receipt(p, lotNumber="API-\u202e1170"), "CONTROL_CHARACTER",
                 ["input", "lotNumber"], id="rtl-override"),
    pytest.param(RECEIVE, lambda p: receipt(p, lotNumber="API-\ud800"), "CONTROL_CHARACTER", ["input", "lotNumber"],
                 id="lone-surrogate"),
    pytest.param(CREATE_SITE, lambda p: {"code": "S\x00", "name": "Site"}, "CONTROL_CHARACTER", ["input", "code"],
                 id="site-code-nul"),
    pytest.param(CREATE_SITE, lambda p: {"code": "S2", "name": "N" * 201}, "TOO_LONG", ["input", "name"],
                 id="site-name-long"),
    pytest.param(CREATE_ITEM, lambda p: item(code="X" * 61), "TOO_LONG", ["input", "code"], id="item-code-long"),
    pytest.param(RULE_DRAFT, lambda p: {"name": "r", "kind": "BLOCKING", "document": {"rules": ["\x00"]}},
                 "CONTROL_CHARACTER", ["input", "document", "rules", "0"], id="nul-inside-json"),
    # dates and times
    pytest.param(RECEIVE, lambda p: receipt(p, expiresOn="2020-02-30"), "INVALID_DATE", ["input", "expiresOn"],
                 id="february-30"),
    pytest.param(RECEIVE, lambda p: receipt(p, expiresOn="30.06.2027"), "INVALID_DATE", ["input", "expiresOn"],
                 id="not-iso-date"),
    pytest.param(RECEIVE, lambda p: receipt(p, expiresOn=20270630), "INVALID_DATE", ["input", "expiresOn"],
                 id="number-for-date"),
    pytest.param(RECEIVE, lambda p: receipt(p, expiresOn="0001-01-01"), "EXPIRY_OUT_OF_RANGE", ["input", "expiresOn"],
                 id="expiry-year-1"),
    pytest.param(RECEIVE, lambda p: receipt(p, expiresOn="9999-12-31"), "EXPIRY_OUT_OF_RANGE", ["input", "expiresOn"],
                 id="expiry-year-9999"),
    pytest.param(POST, lambda p: trigger(p, deviceTimestamp="2026-01-01T08:00:00"), "TIMEZONE_REQUIRED",
                 ["input", "deviceTimestamp"], id="naive-device-timestamp"),
    pytest.param(POST, lambda p: trigger(p, deviceTimestamp="2020-02-30T08:00:00Z"), "INVALID_DATETIME",
                 ["input", "deviceTimestamp"], id="device-timestamp-february-30"),
    pytest.param(POST, lambda p: trigger(p, deviceTimestamp="9999-12-31T23:59:59-05:00"), "DATETIME_OUT_OF_RANGE",
                 ["input", "deviceTimestamp"], id="device-timestamp-past-9999"),
    pytest.param(POST, lambda p: trigger(p, deviceTimestamp="0001-01-01T00:00:00+05:00"), "DATETIME_OUT_OF_RANGE",
                 ["input", "deviceTimestamp"], id="device-timestamp-before-year-1"),
    pytest.param(APPROVE_RULE_SET, lambda p: {"id": p["rule_set"], "signature": {"meaning": "Approved"},
                                              "effectiveFrom": "2026-01-01T00:00:00"},
                 "TIMEZONE_REQUIRED", ["input", "effectiveFrom"], id="naive-effective-from"),
    pytest.param(SIMULATE, lambda p: {"id": p["rule_set"], "from": "2026-01-01", "to": "2026-02-01T00:00:00Z"},
                 "TIMEZONE_REQUIRED", ["input", "from"], id="date-only-simulation-start"),
    # ids
    pytest.param(RECEIVE, lambda p: receipt(p, locationId=encode("Location", 10 ** 30)), "NOT_FOUND",
                 ["input", "locationId"], id="id-past-bigint"),
    pytest.param(RECEIVE, lambda p: receipt(p, locationId=encode("Location", -1)), "NOT_FOUND",
                 ["input", "locationId"], id="negative-id"),
    pytest.param(POST, lambda p: trigger(p, workOrderId=encode("WorkOrder", 2 ** 31)), "NOT_FOUND",
                 ["input", "workOrderId"], id="id-past-int32"),
    pytest.param(RECEIVE, lambda p: receipt(p, locationId=p["stock"] + "\x00"), "CONTROL_CHARACTER",
                 ["input", "locationId"], id="id-with-nul"),
    pytest.param(RECEIVE, lambda p: receipt(p, locationId="A" * 101), "TOO_LONG", ["input", "locationId"],
                 id="id-long"),
    pytest.param(STAGE, lambda p: {"workOrderId": p["order"], "lotId": p["lot"], "fromLocationId": p["stock"],
                                   "quantity": "1.000", "scannedLotNumber": "API-24-0117", "toLocationId": "%%%"},
                 "NOT_FOUND", ["input", "toLocationId"], id="malformed-id"),
    # serials
    pytest.param(RECEIVE, lambda p: receipt(p, quantity="10000", serials=TEN_THOUSAND_SERIALS), "NOT_SERIALIZED",
                 ["input", "serials"], id="receipt-serials-on-unserialized-item"),
    pytest.param(POST, lambda p: trigger(p, serials=[{"lineNo": 2, "serial": s} for s in TEN_THOUSAND_SERIALS]),
                 "NOT_SERIALIZED", ["input", "serials"], id="trigger-serials-on-unserialized-line"),
    pytest.param(PREVIEW, lambda p: trigger(p, deviceTimestamp="2026-01-01T08:00:00"), "TIMEZONE_REQUIRED",
                 ["input", "deviceTimestamp"], id="preview-naive-timestamp"),
]


@pytest.mark.parametrize("document, build, code, field", CASES)
def test_each_bad_input_gets_its_exact_code_and_nothing_is_written(api, sessions, plant, document, build, code, field):
    before = row_counts(sessions)
    response = send(api, document, {"input": build(plant)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    payload = next(iter(body["data"].values()))
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)], payload["userErrors"]
    assert row_counts(sessions) == before


GRAPHQL_TYPE_CASES = [
    pytest.param(CREATE_ITEM, lambda p: item(precision=2 ** 31), id="int-past-32-bits"),
    pytest.param(CREATE_ITEM, lambda p: item(precision="3"), id="string-for-int"),
    pytest.param(CREATE_ITEM, lambda p: item(rounding="SIDEWAYS"), id="unknown-enum"),
    pytest.param(CREATE_ITEM, lambda p: item(name={"a": 1}), id="object-for-string"),
    pytest.param(CREATE_ITEM, lambda p: item(serialized="yes"), id="string-for-boolean"),
    pytest.param(CREATE_ITEM, lambda p: item(code=None), id="null-for-required"),
    pytest.param(POST, lambda p: trigger(p, serials=[{"lineNo": 1}]), id="missing-nested-field"),
]


@pytest.mark.parametrize("document, build", GRAPHQL_TYPE_CASES)
def test_a_value_not_of_the_schemas_type_is_a_coded_graphql_error(api, sessions, plant, document, build):
    before = row_counts(sessions)
    response = send(api, document, {"input": build(plant)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert "Unexpected error" not in response.text
    assert row_counts(sessions) == before


def test_a_root_argument_with_a_control_character_is_a_coded_graphql_error(api, plant):
    body = api.raw(WORK_ORDER, {"number": "WO-DEMO-1\x00"}).json()
    assert body["data"] == {"workOrder": None}
    assert [(e["extensions"]["code"], e["extensions"]["inputCode"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "CONTROL_CHARACTER")]


def test_a_good_receipt_and_trigger_with_offsets_and_plain_decimals_still_pass(api, plant):
    received = api(RECEIVE, input=receipt(plant, quantity="+2.50", expiresOn="2027-06-30"))["receiveGoods"]
    assert received["userErrors"] == [] and received["lot"]["id"]
    posted = api(POST, input=trigger(plant, goodQuantity="0", scrapQuantity="12.",
                                     deviceTimestamp="2026-01-01T09:00:00+01:00"))["postTrigger"]
    assert posted["userErrors"] == []


def test_every_string_input_field_has_its_declared_limit_and_no_limit_is_stale():
    schema = build_schema().as_str()
    declared = set()
    for block in re.finditer(r"^input (\w+) \{(.*?)^\}", schema, re.S | re.M):
        for name, kind in re.findall(r"^  (\w+): \[?(\w+)", block.group(2), re.M):
            if kind == "String":
                declared.add(f"{block.group(1)}.{name}")
    assert declared == set(TEXT_LIMITS)


def test_each_limit_fits_the_column_it_is_stored_in():
    assert TEXT_LIMITS["ReceiveGoodsInput.supplier"].max_length == Lot.__table__.c.supplier.type.length == 120
    assert TEXT_LIMITS["PostTriggerInput.deviceId"].max_length == 80
    assert not TEXT_LIMITS["CreateSiteInput.code"].multiline and TEXT_LIMITS["RequestReversalInput.comment"].multiline


def test_a_document_that_does_not_parse_or_validate_gets_a_code_too(api):
    unparsed = api.raw("mutation { createSite(input: {code: ") .json()
    assert [e["extensions"]["code"] for e in unparsed["errors"]] == ["GRAPHQL_PARSE_FAILED"]
    invalid = api.raw("{ workOrder(number: \"WO\") { noSuchField } }").json()
    assert [e["extensions"]["code"] for e in invalid["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
