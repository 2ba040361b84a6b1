"""An API client per test, on its own database, with principals chosen by a test bearer token."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from auth.passwords import hash_password
from auth.principal import Principal, Unauthenticated
from kernel.database import session_factory
from kernel.settings import Settings
from models import User

PASSWORD = "correct horse"
ALL_SCOPES = frozenset({"admin"})


class Principals:
    """Test tokens are principal names: `Bearer qa` acts as the QA user, and so on."""

    def __init__(self, sessions):
        self.sessions = sessions
        self.by_token: dict[str, Principal] = {}

    def add_user(self, token: str, *, roles=("QA",), scopes=ALL_SCOPES, sites=("*",)) -> Principal:
        with self.sessions() as s:
            user = User(username=token, display_name=f"{token.title()} Tester", password_hash=hash_password(PASSWORD),
                        roles=list(roles), sites=list(sites))
            s.add(user)
            s.commit()
            principal = Principal(subject=f"user:{token}", name=user.display_name, kind="user", roles=frozenset(roles),
                                  scopes=frozenset(scopes), sites=frozenset(sites), user_id=user.id)
        self.by_token[token] = principal
        return principal

    def add_client(self, token: str, *, scopes, sites=("*",)) -> Principal:
        principal = Principal(subject=f"client:{token}", name=token, kind="client", scopes=frozenset(scopes),
                              sites=frozenset(sites))
        self.by_token[token] = principal
        return principal

    def authenticate(self, header: str | None) -> Principal:
        token = (header or "").removeprefix("Bearer ").strip()
        if token not in self.by_token:
            raise Unauthenticated("unknown test token")
        return self.by_token[token]


class Api:
    def __init__(self, client: TestClient, principals: Principals):
        self.client, self.principals, self.token = client, principals, "qa"

    def as_(self, token: str) -> Api:
        other = Api(self.client, self.principals)
        other.token = token
        return other

    def raw(self, query: str, variables: dict | None = None):
        return self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                headers={"Authorization": f"Bearer {self.token}"})

    def __call__(self, query: str, **variables) -> dict:
        response = self.raw(query, variables)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
def api(engine, database_url):
    principals = Principals(session_factory(engine))
    principals.add_user("qa", roles=("QA",))
    app = create_app(Settings(database_url=database_url), authenticate=principals.authenticate)
    with TestClient(app) as client:
        yield Api(client, principals)
