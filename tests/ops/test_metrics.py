"""/metrics as Prometheus scrapes it: triggers by outcome, operation latency, rule decisions, pool, rule sets."""
from __future__ import annotations

from collections import Counter

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from starlette.testclient import TestClient

from api.app import create_app
from kernel import instruments
from kernel.database import build_engine
from kernel.settings import Settings
from models import Trigger
from tests.api.test_triggers_api import POST, mass_plant, order_id
from tests.ops.conftest import SCRAPE_TOKEN


def scrape(api) -> dict[tuple, float]:
    response = api.client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_the_trigger_counts_scraped_equal_the_triggers_posted_by_outcome(api, sessions):
    mass_plant(sessions)
    wo = order_id(api)
    before = scrape(api)

    outcomes = [api(POST, wo=wo, key=key, good=good)["postTrigger"] for key, good in
                [("a", "100"), ("b", "2000"), ("a", "100"), ("c", "100"), ("d", "2500")]]

    after = scrape(api)
    with sessions() as session:
        stored = dict(session.execute(select(Trigger.outcome, func.count()).group_by(Trigger.outcome)).all())
    assert stored == {"POSTED": 2, "BLOCKED": 2}
    assert delta(before, after, "backflush_triggers_total", outcome="POSTED") == 2
    assert delta(before, after, "backflush_triggers_total", outcome="BLOCKED") == 2
    assert delta(before, after, "backflush_trigger_replays_total") == 1
    assert Counter(o["trigger"]["outcome"] for o in outcomes if not o["replayed"]) == Counter(POSTED=2, BLOCKED=2)


def test_a_retried_trigger_is_counted_as_a_retry_by_its_new_outcome(api, sessions):
    plant, order = mass_plant(sessions)
    wo = order_id(api)
    blocked = api(POST, wo=wo, key="big", good="2000")["postTrigger"]["trigger"]
    lot = plant.receive("C", "C-2", "1.0000")
    plant.stage(order, lot, "1.0000")
    before = scrape(api)

    retried = api('mutation ($id: ID!) { retryTrigger(input: {triggerId: $id}) { trigger { outcome } userErrors { code } } }',
                  id=blocked["id"])["retryTrigger"]

    after = scrape(api)
    assert retried == {"trigger": {"outcome": "POSTED"}, "userErrors": []}
    assert delta(before, after, "backflush_trigger_retries_total", outcome="POSTED") == 1
    assert delta(before, after, "backflush_triggers_total", outcome="POSTED") == 0


def test_each_graphql_operation_is_timed_under_its_root_field(api, sessions):
    mass_plant(sessions)
    wo = order_id(api)
    before = scrape(api)

    api(POST, wo=wo, key="a", good="100")
    api(POST, wo=wo, key="b", good="100")
    api('{ workOrder(number: "WO-1") { number } }')
    api.raw("query Whatever { noSuchField }")

    after = scrape(api)
    assert delta(before, after, "backflush_graphql_request_duration_seconds_count",
                 operation_type="mutation", operation="postTrigger", outcome="ok") == 2
    assert delta(before, after, "backflush_graphql_request_duration_seconds_count",
                 operation_type="query", operation="workOrder", outcome="ok") == 1
    # a field the schema does not have never becomes a label: clients cannot grow the series without bound
    assert delta(before, after, "backflush_graphql_request_duration_seconds_count",
                 operation_type="query", operation="(invalid)", outcome="error") == 1
    assert not any("noSuchField" in str(key) or "Whatever" in str(key) for key in after)


def test_every_rule_decision_is_timed_by_kind(api, sessions):
    mass_plant(sessions)
    wo = order_id(api)
    before = scrape(api)

    api(POST, wo=wo, key="posts", good="100")
    api(POST, wo=wo, key="blocks", good="2000")

    after = scrape(api)
    decided = {kind: delta(before, after, "backflush_rule_decision_duration_seconds_count", kind=kind, engine="durable")
               for kind in ("ELIGIBILITY", "BLOCKING", "DEVIATION")}
    assert decided == {"ELIGIBILITY": 2, "BLOCKING": 2, "DEVIATION": 1}


def test_the_rule_set_version_in_force_is_scraped_per_kind_and_site(api, sessions):
    mass_plant(sessions)

    samples = scrape(api)

    for kind in ("ELIGIBILITY", "BLOCKING", "DEVIATION"):
        assert value(samples, "backflush_rule_set_version_in_force", kind=kind, site="P1") == 1


def test_the_pool_gauges_follow_connections_checked_out_and_returned(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path}/pool.db")
    instruments.watch_pool(engine)
    in_use = instruments.DB_CONNECTIONS.labels(state="checked_out")
    opened = instruments.DB_CONNECTIONS.labels(state="open")
    before_in_use, before_open = in_use._value.get(), opened._value.get()

    first, second = engine.connect(), engine.connect()
    during = in_use._value.get() - before_in_use, opened._value.get() - before_open
    first.close(), second.close()
    after_return = in_use._value.get() - before_in_use, opened._value.get() - before_open
    engine.dispose()
    after_dispose = in_use._value.get() - before_in_use, opened._value.get() - before_open

    assert (during, after_return, after_dispose) == ((2, 2), (0, 2), (0, 0))


def test_metrics_are_not_served_unless_a_scrape_token_is_configured(database_url):
    with TestClient(create_app(Settings(database_url=database_url), authenticate=lambda header: None)) as client:
        assert client.get("/metrics").status_code == 404


def test_metrics_refuse_a_scrape_without_the_token(api):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": SCRAPE_TOKEN}):
        response = api.client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
        assert "backflush_" not in response.text
