"""Two `backflush serve` processes on one PostgreSQL database (issue 12 items 4 and 5).

Outcomes posted through one server are pushed to subscribers of the other (LISTEN/NOTIFY, no polling),
and concurrent clients posting through both servers to shared lots — every request sent to both at
once, so the idempotency race is run across processes — leave books that keep every invariant.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.engine import make_url
from websockets.sync.client import connect

from backflush.services.ledger import check_consistency
from bench.http_api import GraphQL, create_identities, line_token, sign_in
from bench.plant import PER_UNIT, SizePlant, build_site, build_size
from bench.server import ScratchDatabase, Server, backflush_commands
from kernel import audit
from kernel.database import build_engine, session_factory
from tests.conftest import PG_URL, on_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(
    not on_postgres(), reason="two servers share one PostgreSQL database: set BACKFLUSH_TEST_DATABASE_URL")]

LINES, CLIENTS, TRIGGERS_PER_CLIENT = 3, 4, 6
POST = """mutation ($input: PostTriggerInput!) {
  postTrigger(input: $input) { trigger { id outcome } replayed userErrors { code message } } }"""
SUBSCRIBE = "subscription ($wo: ID) { triggerOutcomes(workOrderId: $wo) { id outcome goodQuantity } }"
APPS = ("bf-serve-one", "bf-serve-two")  # application_name of each server's connections


@dataclass
class Cluster:
    database: ScratchDatabase
    servers: list[Server]
    lines: list[GraphQL]  # a line integration's client per server
    plant: SizePlant


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    server_url = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False).rsplit("/", 1)[0]
    database = ScratchDatabase(server_url, f"bf_two_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    logs = tmp_path_factory.mktemp("two-servers")
    database.create()
    servers = [Server(f"{database.url}?application_name={app}", 1, logs / f"{app}.log") for app in APPS]
    try:
        backflush_commands((("migrate",), None), database_url=database.url)
        identities = create_identities(database.url)
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_until_healthy()
        admin = GraphQL(servers[0].base_url, sign_in(servers[0].base_url))
        plant = build_size(admin, build_site(admin), lines=LINES, clients=[CLIENTS], caps={"SRV": 40, "FLR": 1})
        admin.close()
        lines = [GraphQL(server.base_url, line_token(server.base_url, identities)) for server in servers]
        yield Cluster(database, servers, lines, plant)
        for line in lines:
            line.close()
    finally:
        for server in servers:
            server.stop()
        database.drop()


def post(api: GraphQL, order_id: str, key: str) -> dict:
    response = api.post(POST, {"input": {"idempotencyKey": key, "workOrderId": order_id, "kind": "GOOD_UNITS_DECLARED",
                                         "goodQuantity": "1"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors") and body["data"]["postTrigger"]["userErrors"] == [], body
    return body["data"]["postTrigger"]


def backends(database: ScratchDatabase, app: str) -> list[tuple]:
    """(pid, last query, when it started) of each connection the server named `app` holds."""
    with database.connect(autocommit=True) as connection:
        return connection.execute("SELECT pid, query, query_start FROM pg_stat_activity "
                                  "WHERE application_name = %s AND datname = current_database()", (app,)).fetchall()


def listening(database: ScratchDatabase, app: str) -> list[tuple]:
    return [b for b in backends(database, app) if b[1].startswith("LISTEN")]


def last_queries(database: ScratchDatabase, app: str) -> dict[int, object]:
    """When each of the server's other connections last started a query."""
    return {pid: started for pid, query, started in backends(database, app) if not query.startswith("LISTEN")}


def subscribe(stack: ExitStack, server: Server, token: str, order_id: str):
    ws = stack.enter_context(connect(f"ws://127.0.0.1:{server.port}/graphql", subprotocols=["graphql-transport-ws"],
                                     open_timeout=10))
    ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
    ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"wo": order_id}}}))
    return ws


def test_outcomes_posted_through_one_server_are_pushed_to_subscribers_of_the_other(cluster):
    one = cluster.servers[0]
    order = cluster.plant.for_run("SRV", CLIENTS)[0]
    token = cluster.lines[0].http.headers["Authorization"].removeprefix("Bearer ")
    with ExitStack() as stack:
        first, second = (subscribe(stack, one, token, order.global_id) for _ in range(2))
        deadline = time.monotonic() + 15
        while not listening(cluster.database, APPS[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(listening(cluster.database, APPS[0])) == 1  # one LISTEN connection for both subscriptions
        assert listening(cluster.database, APPS[1]) == []  # nobody subscribed there

        time.sleep(1.0)  # the subscriptions read their starting points
        before = last_queries(cluster.database, APPS[0])
        time.sleep(2.0)  # no polling: while nothing happens, server one sends no query (polling did, every 0.25 s)
        assert last_queries(cluster.database, APPS[0]) == before

        posted = [post(cluster.lines[1], order.global_id, f"push-{n}")["trigger"] for n in range(5)]
        assert [t["outcome"] for t in posted] == ["POSTED"] * 5
        for ws in (first, second):
            received = [json.loads(ws.recv(timeout=10)) for _ in posted]
            assert [m["type"] for m in received] == ["next"] * 5
            assert [m["payload"]["data"]["triggerOutcomes"] for m in received] == [
                {"id": t["id"], "outcome": "POSTED", "goodQuantity": "1"} for t in posted]
            with pytest.raises(TimeoutError):  # nothing twice
                ws.recv(timeout=1)
    deadline = time.monotonic() + 10  # the last subscriber gone, the listener closes
    while listening(cluster.database, APPS[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert listening(cluster.database, APPS[0]) == []


def test_two_servers_under_concurrent_load_keep_every_invariant(cluster):
    """Every trigger is sent to both servers at the same moment; each (client, key) posts once."""
    orders = cluster.plant.for_run("SRV", CLIENTS)
    answers: dict[str, list[dict]] = {}
    failures: list[BaseException] = []

    def send(api: GraphQL, order_id: str, key: str) -> None:
        try:
            answers.setdefault(key, []).append(post(api, order_id, key))
        except BaseException as error:  # noqa: BLE001 — reported below, in the test's thread
            failures.append(error)

    def client(number: int) -> None:
        extra = [GraphQL(s.base_url, line.http.headers["Authorization"].removeprefix("Bearer "))
                 for s, line in zip(cluster.servers, cluster.lines, strict=True)]
        try:
            for n in range(TRIGGERS_PER_CLIENT):
                key = f"load-{number}-{n}"
                both = [threading.Thread(target=send, args=(api, orders[number].global_id, key)) for api in extra]
                for thread in both:
                    thread.start()
                for thread in both:
                    thread.join()
        finally:
            for api in extra:
                api.close()

    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert failures == []

    assert len(answers) == CLIENTS * TRIGGERS_PER_CLIENT
    for key, pair in answers.items():
        assert len(pair) == 2 and pair[0]["trigger"] == pair[1]["trigger"], key
        assert sorted(a["replayed"] for a in pair) == [False, True], key
        assert pair[0]["trigger"]["outcome"] == "POSTED", key
    assert_every_invariant(cluster.database.url)


def assert_every_invariant(url: str) -> None:
    engine = build_engine(url)
    try:
        with session_factory(engine)() as session:
            assert check_consistency(session) == []  # balance == Σ ledger per (lot, location)
            assert audit.verify(session).ok  # every chain, the global one and each site's
    finally:
        engine.dispose()
    with psycopg.connect(url) as connection:
        def rows(sql: str) -> list[tuple]:
            return connection.execute(sql).fetchall()

        assert rows("SELECT * FROM balance WHERE quantity < 0") == []
        assert rows("SELECT * FROM stagedlot WHERE remaining_quantity < 0") == []
        assert rows("SELECT client_id, idempotency_key FROM trigger GROUP BY 1, 2 HAVING count(*) > 1") == []
        posted = rows("SELECT id, good_quantity FROM trigger WHERE outcome = 'POSTED'")
        assert len(posted) >= CLIENTS * TRIGGERS_PER_CLIENT
        # Each POSTED trigger drew PER_UNIT × good on every BOM line, as its ledger rows say
        drawn = {(t, line): q for t, line, q in rows(
            "SELECT trigger_id, bom_line_no, sum(quantity) FROM ledgerentry WHERE kind = 'BACKFLUSH_ISSUE' "
            "GROUP BY 1, 2")}
        for trigger_id, good in posted:
            assert {line: drawn.get((trigger_id, line)) for line in range(1, LINES + 1)} == {
                line: PER_UNIT * good for line in range(1, LINES + 1)}, trigger_id
        assert {t for t, _ in drawn} == {t for t, _ in posted}
        # Genealogy edges are the consumption: per work order and component lot, into the order's output lot
        consumed = Counter({(w, lot, out): q for w, lot, out, q in rows(
            "SELECT e.work_order_id, e.lot_id, w.output_lot_id, sum(e.quantity) FROM ledgerentry e "
            "JOIN workorder w ON w.id = e.work_order_id WHERE e.kind = 'BACKFLUSH_ISSUE' GROUP BY 1, 2, 3")})
        edges = Counter({(w, f, t): q for w, f, t, q in rows(
            "SELECT work_order_id, from_lot_id, to_lot_id, sum(quantity) FROM genealogyedge WHERE NOT reversed "
            "GROUP BY 1, 2, 3")})
        assert edges == consumed and all(isinstance(q, Decimal) for q in edges.values())
