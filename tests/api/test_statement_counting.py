"""BACKFLUSH_COUNT_STATEMENTS: each response says how much SQL its request sent (bench/run.py reads it); off by default."""
from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import event, text
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from api.app import create_app
from api.statement_counting import HEADER, StatementCounting
from kernel.database import session_factory
from kernel.settings import Settings
from tests.api.conftest import Principals

CREATE_SITE = 'mutation { createSite(input: {code: "S1", name: "Site 1"}) { site { code } userErrors { code } } }'


def app_client(engine, database_url, **settings) -> TestClient:
    principals = Principals(session_factory(engine))
    principals.add_user("qa", roles=("QA",))
    return TestClient(create_app(Settings(database_url=database_url, **settings), authenticate=principals.authenticate))


def tally(response) -> dict[str, int]:
    return {kind: int(count) for kind, _, count in (part.partition("=") for part in response.headers[HEADER.decode()].split())}


def test_an_executemany_counts_a_statement_per_row_in_one_call(engine):
    async def app(scope, receive, send):
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE counted (n INTEGER)"))
            connection.execute(text("INSERT INTO counted (n) VALUES (:n)"), [{"n": 1}, {"n": 2}, {"n": 3}])
        await PlainTextResponse("done")(scope, receive, send)

    response = TestClient(StatementCounting(app, engine=engine)).get("/")  # no lifespan: `app` serves HTTP only

    begin = 1 if engine.dialect.name == "sqlite" else 0  # SQLite's BEGIN IMMEDIATE is a statement we send
    assert tally(response) == {"statements": begin + 1 + 3, "calls": begin + 2, "commits": 1, "checkouts": 1}


def test_with_counting_on_a_response_reports_the_sql_of_its_whole_request(engine, database_url):
    with app_client(engine, database_url, count_statements=True) as client:
        sent = []
        event.listen(client.app.state.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
        response = client.post("/graphql", json={"query": CREATE_SITE}, headers={"Authorization": "Bearer qa"})

    assert response.json()["data"]["createSite"]["site"] == {"code": "S1"}
    counts = tally(response)
    assert counts["calls"] == len(sent) > 0 and counts["statements"] >= counts["calls"]
    assert counts["commits"] == 1 and counts["checkouts"] >= 1


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_requests_running_at_once_keep_their_own_tally(engine, database_url):
    principals = Principals(session_factory(engine))
    principals.add_user("qa", roles=("QA",))
    app = create_app(Settings(database_url=database_url, count_statements=True), authenticate=principals.authenticate)
    writes = [f'mutation {{ createSite(input: {{code: "S{n}", name: "Site"}}) {{ site {{ code }} }} }}' for n in range(4)]
    reads = ['{ item(code: "nothing") { code } }'] * 4
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench.test",
                                 headers={"Authorization": "Bearer qa"}) as http:
        responses = await asyncio.gather(*(http.post("/graphql", json={"query": q}) for q in writes + reads))

    tallies = [tally(response) for response in responses]
    assert all(t == tallies[0] for t in tallies[:4]) and tallies[0]["commits"] == 1
    assert all(t == tallies[4] for t in tallies[4:]) and tallies[4]["commits"] == 0


def test_counting_is_off_by_default(engine, database_url):
    with app_client(engine, database_url) as client:
        response = client.post("/graphql", json={"query": CREATE_SITE}, headers={"Authorization": "Bearer qa"})
    assert response.status_code == 200 and HEADER.decode() not in response.headers
    assert Settings.from_env({}).count_statements is False
    assert Settings.from_env({"BACKFLUSH_COUNT_STATEMENTS": "true"}).count_statements is True
