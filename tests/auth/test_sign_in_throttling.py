"""The login form slows guessing down: per account and per client address, with backoff, a lock and an unlock."""
from __future__ import annotations

import re
import time
from datetime import UTC

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from auth.routes import auth_routes
from kernel.database import unit_of_work
from models import AccountLock, AuditRecord
from tests.auth.conftest import ISSUER, PASSWORD, REDIRECT_URI, given_client, given_user, pkce_pair
from tests.auth.test_admin_and_config import run_cli

pytestmark = pytest.mark.anyio


class FrozenClock:
    """Time that moves only when the test says: a slow password hash must not wait out a backoff."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def app(config, sessions):
    given_client(sessions, "shopfloor-app", scopes=("triggers:write",), sites=["*"], public=True,
                 grant_types=["authorization_code"], redirect_uris=[REDIRECT_URI])
    return Starlette(routes=auth_routes(config, sessions))


class Browser:
    """A person at one client address, filling in the login form."""

    def __init__(self, app, address: str):
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 50000)),
                                      base_url=ISSUER)
        self.params = {"response_type": "code", "client_id": "shopfloor-app", "redirect_uri": REDIRECT_URI,
                       "state": "s", "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}

    async def sign_in(self, username: str, password: str) -> httpx.Response:
        page = await self.http.get("/oauth/authorize", params=self.params)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        return await self.http.post("/oauth/authorize", params=self.params,
                                    data={"username": username, "password": password, "csrf": csrf})


def outcome(response: httpx.Response) -> str:
    if response.status_code == 302:
        return "SIGNED_IN"
    if response.status_code == 429:
        return f"WAIT {response.headers['Retry-After']}"
    if response.status_code == 403 and "locked" in response.text:
        return "LOCKED"
    assert response.status_code == 200 and "Wrong user name or password" in response.text, response.text
    return "WRONG"


def audit_rows(sessions, action: str) -> list[dict]:
    with unit_of_work(sessions) as session:
        rows = session.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq))
        return [{"actor": row.actor, "after": row.after, "reason": row.reason} for row in rows]


async def test_three_failures_are_free_then_each_failure_doubles_the_wait_before_the_next_attempt(
        app, sessions, clock):
    given_user(sessions, "olivia")
    browser = Browser(app, "10.0.0.1")

    first_four = [outcome(await browser.sign_in("olivia", f"guess {n}")) for n in range(4)]
    too_early = outcome(await browser.sign_in("olivia", PASSWORD))  # not even the right password is checked
    clock.advance(1)
    fifth = outcome(await browser.sign_in("olivia", "guess 5"))
    after_fifth = outcome(await browser.sign_in("olivia", "guess 6"))
    clock.advance(2)
    sixth = outcome(await browser.sign_in("olivia", "guess 6"))
    after_sixth = outcome(await browser.sign_in("olivia", "guess 7"))
    clock.advance(4)
    finally_right = outcome(await browser.sign_in("olivia", PASSWORD))

    assert first_four == ["WRONG"] * 4
    assert (too_early, fifth, after_fifth, sixth, after_sixth) == ("WAIT 1", "WRONG", "WAIT 2", "WRONG", "WAIT 4")
    assert finally_right == "SIGNED_IN"
    failed = audit_rows(sessions, "sign_in.failed")
    assert len(failed) == 6 and failed[-1]["after"] == {"username": "olivia", "address": "10.0.0.1", "failures": 6}


async def test_a_successful_sign_in_forgets_the_accounts_failures(app, sessions, clock):
    given_user(sessions, "olivia")
    browser = Browser(app, "10.0.0.1")
    for n in range(3):
        await browser.sign_in("olivia", f"guess {n}")

    assert outcome(await browser.sign_in("olivia", PASSWORD)) == "SIGNED_IN"
    assert [outcome(await browser.sign_in("olivia", f"again {n}")) for n in range(5)] == ["WRONG"] * 4 + ["WAIT 1"]


async def test_ten_failures_lock_the_account_until_an_administrator_unlocks_it(
        app, sessions, clock, database_url, monkeypatch):
    given_user(sessions, "olivia")
    browser = Browser(app, "10.0.0.1")
    results = []
    for n in range(10):
        response = await browser.sign_in("olivia", f"guess {n}")
        results.append(outcome(response))
        clock.advance(2 ** max(0, n - 3))  # wait out each backoff
    clock.advance(24 * 3600)

    locked = outcome(await browser.sign_in("olivia", PASSWORD))
    unlocked = run_cli(["unlock-user", "--username", "olivia", "--reason", "called the help desk, identity checked"],
                       database_url=database_url, monkeypatch=monkeypatch)
    signed_in = outcome(await browser.sign_in("olivia", PASSWORD))

    assert results == ["WRONG"] * 10
    assert (locked, unlocked, signed_in) == ("LOCKED", 0, "SIGNED_IN")
    lock, = audit_rows(sessions, "user.locked")
    unlock, = audit_rows(sessions, "user.unlocked")
    assert lock["after"] == {"failures": 10, "address": "10.0.0.1"}
    assert unlock["actor"].startswith("cli:") and unlock["reason"] == "called the help desk, identity checked"
    with unit_of_work(sessions) as session:
        assert session.scalars(select(AccountLock)).all() == []


async def test_an_unknown_user_name_is_slowed_down_and_locked_like_a_real_one(app, sessions, clock):
    given_user(sessions, "olivia")
    browser = Browser(app, "10.0.0.1")

    def sequence():
        async def run(username):
            results = []
            for n in range(11):
                results.append(outcome(await browser.sign_in(username, f"guess {n}")))
                clock.advance(2 ** max(0, n - 3))
            return results
        return run

    real, unknown = await sequence()("olivia"), await sequence()("nobody")

    assert real == unknown == ["WRONG"] * 10 + ["LOCKED"]


async def test_one_address_guessing_many_accounts_is_slowed_down_and_others_are_not(app, sessions, clock):
    given_user(sessions, "olivia")
    spray, colleague = Browser(app, "203.0.113.9"), Browser(app, "10.0.0.2")

    sprayed = [outcome(await spray.sign_in(f"user{n}", "Winter2026!")) for n in range(21)]
    next_guess = outcome(await spray.sign_in("olivia", PASSWORD))
    other_address = outcome(await colleague.sign_in("olivia", PASSWORD))

    assert sprayed == ["WRONG"] * 21
    assert next_guess == "WAIT 1"
    assert other_address == "SIGNED_IN"


def test_twelve_concurrent_wrong_passwords_for_one_account_check_exactly_four(sessions, monkeypatch):
    """Given 12 guesses at once, when they race, then the 3 free failures and the 4th are checked, 8 must wait."""
    import threading
    from datetime import datetime

    import auth.sign_in
    from auth.sign_in import SignInRefused, sign_in

    given_user(sessions, "olivia")
    checks, real_verify = [], auth.sign_in.verify_password

    def slow_verify(password_hash, password):
        checks.append(password)
        time.sleep(0.05)
        return real_verify(password_hash, password)
    monkeypatch.setattr(auth.sign_in, "verify_password", slow_verify)
    now, start, results = datetime.now(UTC), threading.Barrier(12), []

    def attempt(n: int) -> None:
        start.wait()
        with unit_of_work(sessions) as session:
            try:
                sign_in(session, username="olivia", password=f"guess {n}", address=f"10.0.0.{n}", now=now)
            except SignInRefused as refused:
                results.append(refused.refusal.value)
            session.commit()
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(checks) == 4
    assert sorted(results) == ["TOO_EARLY"] * 8 + ["WRONG"] * 4
