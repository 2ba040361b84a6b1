"""Builders for identity tests: a configured server on a fresh database, people, clients, a movable clock."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time

import httpx
import pytest
from starlette.applications import Starlette

from auth import admin
from auth.authenticate import Authenticator
from auth.config import AuthConfig
from auth.routes import auth_routes
from kernel.database import unit_of_work

ISSUER = "https://backflush.test"
AUDIENCE = "backflush-api"
PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://app.test/callback"


class Clock:
    """Wall-clock time that a test can move forward."""

    def __init__(self):
        self.offset = 0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: int) -> None:
        self.offset += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def config(clock):
    # ES256 keeps key generation fast; RS256 has its own test.
    return AuthConfig(issuer=ISSUER, audience=AUDIENCE, signing_alg="ES256", clock=clock)


@pytest.fixture
def authenticator(config, sessions):
    return Authenticator(config, sessions)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def http(config, sessions):
    app = Starlette(routes=auth_routes(config, sessions))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as client:
        yield client


def given_user(sessions, username="olivia", *, roles=("OPERATOR",), sites=("PL1",), password=PASSWORD,
               display_name=None):
    with unit_of_work(sessions) as session:
        user = admin.create_user(session, username=username, display_name=display_name or username.title(),
                                 password=password, roles=list(roles), sites=list(sites))
        session.commit()
        return user


def given_client(sessions, client_id="line-scanner", *, scopes=("triggers:write", "genealogy:read"),
                 sites=("PL1",), grant_types=("client_credentials",), redirect_uris=(), public=False):
    with unit_of_work(sessions) as session:
        secret = admin.create_client(session, client_id=client_id, name=client_id.replace("-", " ").title(),
                                     scopes=list(scopes), sites=list(sites), grant_types=list(grant_types),
                                     redirect_uris=list(redirect_uris), public=public)
        session.commit()
        return secret


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def bearer(token: str) -> str:
    return f"Bearer {token}"
