"""The audit trail through GraphQL: canonical UTC hashing, the site wall, the new fields, breaks and checkpoints."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from starlette.testclient import TestClient

from api import ids
from api.app import create_app
from backflush.services import receiving
from kernel.audit.keys import generate_key_file
from kernel.request_context import request_id
from kernel.settings import Settings
from models import Site, WorkOrder
from tests.api.conftest import Api
from tests.api.test_triggers_api import mass_plant, order_id
from tests.builders import Plant, qa_user
from tests.test_audit_trail import as_database_superuser, chain_rows, two_sites

POST_WITH_DEVICE_TIME = """
mutation ($wo: ID!, $key: String!, $at: DateTime!) {
  postTrigger(input: {idempotencyKey: $key, workOrderId: $wo, kind: GOOD_UNITS_DECLARED, goodQuantity: "10",
                      deviceId: "TAB-7", deviceTimestamp: $at}) {
    userErrors { code } trigger { outcome }
  }
}"""

VERIFY = "{ verifyAuditTrail { ok checked firstBrokenSeq } }"


@pytest.mark.parametrize("offset", [timedelta(hours=1), timedelta(hours=14), -timedelta(hours=9, minutes=30)],
                         ids=["+01:00", "+14:00", "-09:30"])
def test_a_device_time_sent_with_an_offset_verifies_after_it_is_stored_as_utc(api, sessions, offset):
    # given a plant and a device whose clock reports local time with an offset
    mass_plant(sessions)
    device_now = datetime.now(timezone(offset)).replace(microsecond=123456)
    # when it posts a trigger through the real mutation
    posted = api(POST_WITH_DEVICE_TIME, wo=order_id(api), key="offset-1", at=device_now.isoformat())["postTrigger"]
    assert posted == {"userErrors": [], "trigger": {"outcome": "POSTED"}}
    # then the trail verifies: the device time was hashed in the UTC form the database gives back
    result = api(VERIFY)["verifyAuditTrail"]
    assert result["ok"] is True and result["firstBrokenSeq"] is None


AUDIT_TRAIL = """
query ($entity: ID) { auditTrail(entityId: $entity, first: 1000) {
  seq siteCode chainSeq action entityType before after reason requestId } }"""

VERIFY_ALL = """{ verifyAuditTrail { ok checked firstBrokenSeq breakCount chains checkpointsChecked
                                   checkpointsVerifiable breaks { kind siteCode chainSeq seq detail } } }"""


def test_the_audit_trail_shows_a_site_user_only_the_records_of_their_sites(api, sessions):
    # given records at sites A and B, and global ones (items, BOM approval, shipped rule sets)
    two_sites(sessions)
    api.principals.add_user("ana", roles=("QA",), sites=("A",))
    # when a QA user of site A reads the trail
    rows = api.as_("ana")(AUDIT_TRAIL)["auditTrail"]
    # then she sees site A's chain, whole, and nothing of site B or of the global chain
    assert {r["siteCode"] for r in rows} == {"A"}
    assert sorted(r["chainSeq"] for r in rows) == list(range(1, len(rows) + 1))
    assert {"site.created", "lot.received", "work_order.released", "lot.staged", "trigger.posted"} <= {
        r["action"] for r in rows}


def test_an_administrator_also_sees_the_global_chain_but_still_not_other_sites(api, sessions):
    two_sites(sessions)
    api.principals.add_user("root-a", roles=("ADMIN",), sites=("A",))
    rows = api.as_("root-a")(AUDIT_TRAIL)["auditTrail"]
    assert {r["siteCode"] for r in rows} == {"A", None}
    assert {r["action"] for r in rows if r["siteCode"] is None} == {
        "rule_set.shipped_default_installed", "item.created", "bom.created", "esignature.signed", "bom.approved",
        "bom.active"}
    everywhere = api.principals.add_user("root", roles=("ADMIN",), sites=("*",))
    assert everywhere and {r["siteCode"] for r in api.as_("root")(AUDIT_TRAIL)["auditTrail"]} == {"A", "B", None}


def test_an_entity_of_another_site_has_no_audit_trail_for_a_site_user(api, sessions):
    two_sites(sessions)
    api.principals.add_user("ana", roles=("QA",), sites=("A",))
    api.principals.add_user("bo", roles=("QA",), sites=("B",))
    order_b = ids.encode("WorkOrder", _order_id(sessions, "WO-B"))
    assert api.as_("ana")(AUDIT_TRAIL, entity=order_b)["auditTrail"] == []
    assert [r["action"] for r in api.as_("bo")(AUDIT_TRAIL, entity=order_b)["auditTrail"]] == [
        "work_order.released", "work_order.created"]


def _order_id(sessions, number: str) -> int:
    with sessions() as s:
        return s.scalar(select(WorkOrder.id).where(WorkOrder.number == number))


def test_an_audit_record_serves_before_after_reason_and_request_id(api, sessions):
    # given a lot whose status a QA user changed, inside a request whose id was set
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    lot = plant.receive("C", "C-1", "5")
    token = request_id.set("req-42")
    try:
        plant.run(receiving.set_lot_status, lot_id=lot.id, status="ON_HOLD", reason="supplier recall",
                  signature=None)
    finally:
        request_id.reset(token)
    # when the trail of that lot is read
    rows = api(AUDIT_TRAIL, entity=ids.encode("Lot", lot.id))["auditTrail"]
    # then the change shows what it was, why, and which request made it
    assert rows[0] == {"seq": rows[0]["seq"], "siteCode": "P1", "chainSeq": rows[0]["chainSeq"],
                       "action": "lot.status_changed", "entityType": "lot", "before": {"status": "RELEASED"},
                       "after": {"status": "ON_HOLD"}, "reason": "supplier recall", "requestId": "req-42"}
    assert rows[1]["action"] == "lot.received" and rows[1]["requestId"] is None


def test_verification_lists_breaks_only_in_chains_the_caller_may_read_but_counts_them_all(api, sessions, engine):
    a, b = two_sites(sessions)
    api.principals.add_user("ana", roles=("QA",), sites=("A",))
    second_rows = [chain_rows(sessions, site_id)[1].seq for site_id in (a.site_id, b.site_id)]
    with as_database_superuser(engine) as dba:  # the second row of each site's chain is edited
        for seq in second_rows:
            dba.execute(text("UPDATE auditrecord SET reason = 'edited' WHERE seq = :seq"), {"seq": seq})
    as_ana = api.as_("ana")(VERIFY_ALL)["verifyAuditTrail"]
    assert as_ana["ok"] is False and as_ana["breakCount"] == 2 and as_ana["chains"] == 3
    assert [(x["kind"], x["siteCode"], x["chainSeq"]) for x in as_ana["breaks"]] == [("MODIFIED", "A", 2)]
    as_qa = api(VERIFY_ALL)["verifyAuditTrail"]
    assert [(x["kind"], x["siteCode"], x["chainSeq"]) for x in as_qa["breaks"]] == [
        ("MODIFIED", "A", 2), ("MODIFIED", "B", 2)]


def test_verify_audit_trail_checks_the_trail_against_the_service_checkpoints(api, sessions, engine, database_url,
                                                                             tmp_path):
    # given a service configured with an audit key and a checkpoint every 3 rows of a chain
    generate_key_file(tmp_path / "audit-key.pem")
    settings = Settings(database_url=database_url, audit_key_file=str(tmp_path / "audit-key.pem"),
                        audit_checkpoint_every=3)
    app = create_app(settings, authenticate=api.principals.authenticate)
    with TestClient(app) as client:
        served = Api(client, api.principals)
        # when it builds a plant through the API (site P1's chain gets checkpoints at 3, 6, …)
        plant_through_the_api(served)
        verified = served(VERIFY_ALL)["verifyAuditTrail"]
        assert verified["ok"] is True and verified["checkpointsVerifiable"] is True
        assert verified["checkpointsChecked"] >= 2
        with sessions() as s:
            p1 = s.scalar(select(Site.id).where(Site.code == "P1"))
        site_rows = chain_rows(sessions, p1)
        # and a DBA cuts site P1's chain below its last checkpoint
        with as_database_superuser(engine) as dba:
            dba.execute(text("DELETE FROM auditrecord WHERE site_id = :p1 AND chain_seq > 1"), {"p1": p1})
        # then verifyAuditTrail reports the cut
        result = served(VERIFY_ALL)["verifyAuditTrail"]
    assert result["ok"] is False
    assert [(b["kind"], b["siteCode"], b["chainSeq"]) for b in result["breaks"]] == [
        ("TRUNCATED", "P1", 2)] * (len(site_rows) // 3)


def plant_through_the_api(api) -> None:
    api('mutation { createSite(input: {code: "P1", name: "Plant 1"}) { userErrors { code } } }')
    for kind in ("STOCK", "WIP", "FINISHED", "QUARANTINE", "SUPERMARKET"):
        created = api('mutation ($k: LocationKind!, $c: String!) { createLocation(input: {siteCode: "P1", code: $c, '
                      'kind: $k}) { userErrors { code } } }', k=kind, c=kind)
        assert created["createLocation"]["userErrors"] == []


def test_the_request_id_a_client_sends_is_on_the_audit_rows_its_mutation_wrote(api):
    # given a client that names its request
    response = api.client.post("/graphql", json={"query": 'mutation { createSite(input: {code: "P9", name: "P9"}) '
                                                          '{ userErrors { code } } }'},
                               headers={"Authorization": "Bearer qa", "X-Request-ID": "mes-20261130-0042"})
    assert response.status_code == 200 and response.json()["data"]["createSite"]["userErrors"] == []
    # when the trail of the site is read, then its creation carries that id, and verifies
    api.principals.add_user("root", roles=("ADMIN",), sites=("*",))
    rows = api.as_("root")(AUDIT_TRAIL)["auditTrail"]
    assert [(r["action"], r["siteCode"], r["requestId"]) for r in rows if r["siteCode"] == "P9"] == [
        ("site.created", "P9", "mes-20261130-0042")]
    assert api(VERIFY)["verifyAuditTrail"]["ok"] is True
