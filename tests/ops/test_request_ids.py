"""Every request has an id: the caller's X-Request-ID or a new one, echoed, in every log line and in the services."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import threading

import pytest

from api.logs import structured_formatter
from api.request_ids import RequestIds
from backflush.services import posting
from kernel.request_context import request_id
from tests.api.test_triggers_api import POST, mass_plant, order_id


@pytest.fixture
def log_lines():
    """JSON lines, as the server writes them, of everything logged while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structured_formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_callers_request_id_reaches_the_service_in_its_worker_thread(api, sessions, monkeypatch):
    mass_plant(sessions)
    wo = order_id(api)
    seen = []

    def spy(*args, **kwargs):
        seen.append((request_id.get(), threading.current_thread() is threading.main_thread()))
        return submit(*args, **kwargs)
    submit = posting.submit_trigger
    monkeypatch.setattr(posting, "submit_trigger", spy)

    response = api.client.post("/graphql", json={"query": POST, "variables": {"wo": wo, "key": "k", "good": "100"}},
                               headers={"Authorization": "Bearer qa", "X-Request-ID": "line-7-req-0042"})

    assert response.json()["data"]["postTrigger"]["trigger"]["outcome"] == "POSTED"
    assert response.headers["x-request-id"] == "line-7-req-0042"
    assert seen == [("line-7-req-0042", False)]
    assert request_id.get() is None  # nothing leaks into the test's own context


def test_a_request_without_an_id_gets_a_new_one_each_time(api):
    ids = [api.client.get("/healthz").headers["x-request-id"] for _ in range(2)]
    assert ids[0] != ids[1] and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize("offered", ["x" * 129, "evil\" id", "a\u00e9b", ""])
def test_an_unusable_request_id_is_replaced_rather_than_echoed_or_logged(api, offered, log_lines):
    response = api.client.get("/healthz", headers={"X-Request-ID": offered.encode("utf-8")})
    assert response.headers["x-request-id"] != offered and len(response.headers["x-request-id"]) == 32
    assert all(line.get("request_id") != offered for line in log_lines())


def test_each_request_is_logged_as_one_json_line_carrying_its_id(api, log_lines):
    api.client.post("/graphql", json={"query": "{ __typename }"},
                    headers={"Authorization": "Bearer qa", "X-Request-ID": "req-1"})

    lines = [line for line in log_lines() if line.get("request_id") == "req-1"]
    access = [line for line in lines if line["event"] == "request"]
    assert len(access) == 1
    assert {key: access[0][key] for key in ("method", "path", "status", "level", "logger")} == {
        "method": "POST", "path": "/graphql", "status": 200, "level": "info", "logger": "backflush.access"}
    assert access[0]["duration_ms"] >= 0 and "timestamp" in access[0]


def test_an_unexpected_error_is_logged_with_the_request_id_and_masked_for_the_client(api, sessions, monkeypatch,
                                                                                   log_lines):
    mass_plant(sessions)
    wo = order_id(api)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(posting, "submit_trigger", broken)

    body = api.client.post("/graphql", json={"query": POST, "variables": {"wo": wo, "key": "k", "good": "100"}},
                           headers={"Authorization": "Bearer qa", "X-Request-ID": "req-boom"}).json()

    assert body["errors"][0]["message"] == "Unexpected error."
    ours = [line for line in log_lines() if line["logger"] == "backflush.api" and line["level"] == "error"]
    assert len(ours) == 1 and ours[0]["request_id"] == "req-boom" and "disk on fire" in ours[0]["exception"]


def test_every_answer_says_how_long_the_server_took_to_make_it_not_to_send_it():
    """Server-Timing is stamped when the response starts: the body's sending that follows is not in it."""
    async def slow_app(scope, receive, send):
        await asyncio.sleep(0.05)  # making the answer
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.2)  # sending it
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/graphql", "headers": []}
    asyncio.run(RequestIds(slow_app)(scope, receive, send))

    headers = dict(sent[0]["headers"])
    timing = re.fullmatch(rb"app;dur=(\d+\.\d\d)", headers[b"server-timing"])
    assert timing is not None
    assert 50 <= float(timing.group(1)) < 200


def test_a_graphql_answer_carries_its_server_time(api):
    response = api.client.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer qa"})

    assert response.status_code == 200
    assert re.fullmatch(r"app;dur=\d+\.\d\d", response.headers["server-timing"])
