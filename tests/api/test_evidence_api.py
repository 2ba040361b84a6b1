"""The evidence pack (issue 14): GraphQL, the printable page, the JSON archive and the pictures, each
under the API's authorization — another site's user gets 404."""
import hashlib
import json

import pytest

from api import ids
from tests.builders import Plant, qa_user
from tests.insight.scenario import build_insight_scenario

PACK = """query ($wo: ID!) { evidencePack(workOrderId: $wo) {
  workOrder { number } bom { version signatures { signerName meaning signedAt } }
  conversions { fromUom } triggers { outcome blockReasons { code } deviceId attempts { outcome blockReasons { code } } }
  decisions { ruleSet { name kind } version fired { ruleId action } }
  genealogy { root { lotNumber } lots { lotNumber } edges { from { lotNumber } to { lotNumber } quantity reversed postings { reversed } } }
  reversals { reasonCode signatures { meaning } } deviations { category }
  variances { standardQuantity actualQuantity usageVariance variancePercent }
  auditTrail { action before after } auditVerification { ok }
  htmlUrl jsonUrl sha256 genealogySvgUrl } }"""
SECTIONS = ["order", "bom", "conversions", "labels", "staging", "triggers", "decisions", "postings", "genealogy",
            "reversals", "variances", "deviations", "audit"]


@pytest.fixture
def seeded(api, sessions):
    scenario = build_insight_scenario(Plant(sessions, qa_user(sessions)))
    return api, scenario


def gid(order) -> str:
    return ids.encode("WorkOrder", order.id)


def get(api, url, token="qa"):
    return api.client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_the_pack_of_the_order_4_sigma_out_shows_how_its_usage_was_posted(seeded):
    api, scenario = seeded
    pack = api(PACK, wo=gid(scenario.orders[-1]))["evidencePack"]
    assert pack["workOrder"] == {"number": "WO-21"}
    assert [s["meaning"] for s in pack["bom"]["signatures"]] == ["Approved"]
    # blocked first, corrected by staging A2: the blocked attempt stays on record, the posted trigger has no reasons
    assert pack["triggers"] == [{"outcome": "POSTED", "blockReasons": [], "deviceId": None, "attempts": [
        {"outcome": "BLOCKED", "blockReasons": [{"code": "INSUFFICIENT_STAGED_STOCK"}]},
        {"outcome": "POSTED", "blockReasons": []}]}]
    kinds = {d["ruleSet"]["kind"] for d in pack["decisions"]}
    assert {"BLOCKING", "ELIGIBILITY", "DEVIATION"} <= kinds
    assert any(f["ruleId"] == "control-signal" for d in pack["decisions"] for f in d["fired"])
    tree = pack["genealogy"]
    assert tree["root"] == {"lotNumber": "WO-21-OUT"}
    assert sorted((e["from"]["lotNumber"], e["quantity"], e["reversed"]) for e in tree["edges"]) == [
        ("A2", "2.000", False), ("B1", "3.000", False)]
    assert sorted(d["category"] for d in pack["deviations"]) == ["BLOCKED_FLUSH", "CONTROL_SIGNAL", "USAGE_VARIANCE"]
    assert pack["variances"] == [{"standardQuantity": "4.000", "actualQuantity": "5.000", "usageVariance": "1.000",
                                  "variancePercent": "25.00"}]
    assert any(r["action"] == "work_order.closed" and r["before"] == {"status": "IN_PROGRESS"}
               for r in pack["auditTrail"])
    assert pack["auditVerification"] == {"ok": True}
    assert pack["htmlUrl"] == f"/evidence/{gid(scenario.orders[-1])}.html"


def test_the_page_shows_every_section_with_the_pictures_inline_and_other_sites_get_404(seeded):
    api, scenario = seeded
    pack = api(PACK, wo=gid(scenario.orders[-1]))["evidencePack"]
    page = get(api, pack["htmlUrl"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for section in SECTIONS:
        assert f"id='{section}'" in page.text, section
    assert page.text.count("<svg") == 2  # the genealogy and the control chart of C
    assert "data-lot=\"B1\"" in page.text and "data-lot=\"A2\"" in page.text and "WO-21-OUT" in page.text
    assert "class=\"point signal\" data-order=\"WO-21\"" in page.text
    assert pack["sha256"] in page.text
    api.principals.add_user("far", roles=("QA",), sites=("ELSEWHERE",))
    for url in (pack["htmlUrl"], pack["jsonUrl"], pack["genealogySvgUrl"]):
        assert get(api, url, "far").status_code == 404
        assert api.client.get(url).status_code == 401
    assert api.as_("far")(PACK, wo=gid(scenario.orders[-1]))["evidencePack"] is None
    api.principals.add_client("line", scopes={"triggers:write", "production:read"})
    assert get(api, pack["htmlUrl"], "line").status_code == 403


def test_the_json_download_is_the_canonical_document_whose_sha256_the_pack_states(seeded):
    api, scenario = seeded
    pack = api(PACK, wo=gid(scenario.orders[-1]))["evidencePack"]
    download = get(api, pack["jsonUrl"])
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == pack["sha256"] == download.headers["x-evidence-sha256"]
    document = json.loads(download.content)
    assert document["work_order"]["number"] == "WO-21"
    assert json.dumps(document, sort_keys=True, separators=(",", ":")).encode() == download.content


def test_the_reversed_order_shows_the_reversal_its_signature_and_the_reversed_edge(seeded):
    api, scenario = seeded
    pack = api(PACK, wo=gid(scenario.orders[1]))["evidencePack"]
    assert pack["reversals"] == [{"reasonCode": "WRONG_QUANTITY", "signatures": [{"meaning": "Reversal approved"}]}]
    # one edge per lot pair and work order: the re-post stands, the reversed posting stays listed behind it
    [edge] = pack["genealogy"]["edges"]
    assert edge["reversed"] is False and [p["reversed"] for p in edge["postings"]] == [True, False]
    picture = get(api, pack["genealogySvgUrl"])
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert 'class="edge"' in picture.text and 'class="edge reversed"' not in picture.text
