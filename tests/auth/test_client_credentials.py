"""Machine integrations obtain tokens with their own credentials (RFC 6749 §4.4)."""
from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from auth.routes import auth_routes
from tests.auth.conftest import AUDIENCE, ISSUER, bearer, given_client

pytestmark = pytest.mark.anyio


async def test_a_client_gets_a_token_with_http_basic_authentication(http, sessions, authenticator):
    secret = given_client(sessions, "line-scanner", scopes=["triggers:write"], sites=["PL1"])

    response = await http.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "triggers:write"},
                               auth=("line-scanner", secret))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "triggers:write" and body["expires_in"] == 900
    assert "refresh_token" not in body
    assert response.headers["cache-control"] == "no-store"
    principal = authenticator.authenticate(bearer(body["access_token"]))
    assert (principal.subject, principal.kind) == ("client:line-scanner", "client")
    assert principal.scopes == {"triggers:write"} and principal.sites == {"PL1"} and not principal.roles


async def test_a_client_gets_a_token_with_its_secret_in_the_form_body(http, sessions):
    secret = given_client(sessions, "erp-bridge")

    response = await http.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "erp-bridge", "client_secret": secret})

    assert response.status_code == 200, response.text


async def test_a_client_asking_for_no_scope_gets_every_scope_it_was_granted(http, sessions, authenticator):
    secret = given_client(sessions, scopes=["triggers:write", "genealogy:read"])

    response = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=("line-scanner", secret))

    assert response.json()["scope"] == "genealogy:read triggers:write"


async def test_a_scope_the_client_was_not_granted_is_refused_with_invalid_scope(http, sessions):
    secret = given_client(sessions, scopes=["triggers:write"])

    response = await http.post("/oauth/token", data={
        "grant_type": "client_credentials", "scope": "triggers:write masterdata:write"},
        auth=("line-scanner", secret))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "access_token" not in response.json()


async def test_a_scope_outside_the_vocabulary_is_refused_with_invalid_scope(http, sessions):
    secret = given_client(sessions)

    response = await http.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "everything"},
                               auth=("line-scanner", secret))

    assert response.json()["error"] == "invalid_scope"


async def test_a_wrong_secret_is_refused_with_invalid_client(http, sessions):
    given_client(sessions)

    response = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=("line-scanner", "not-the-secret"))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_a_client_not_registered_for_the_grant_is_refused(http, sessions):
    secret = given_client(sessions, grant_types=["authorization_code"], redirect_uris=["https://app.test/cb"])

    response = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=("line-scanner", secret))

    assert response.json()["error"] == "unauthorized_client"


async def test_the_signing_keys_and_server_metadata_are_published(http, sessions):
    secret = given_client(sessions)
    await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("line-scanner", secret))

    jwks = (await http.get("/.well-known/jwks.json")).json()
    metadata = (await http.get("/.well-known/openid-configuration")).json()

    assert len(jwks["keys"]) == 1 and "d" not in jwks["keys"][0]
    assert metadata["issuer"] == ISSUER and metadata["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert AUDIENCE not in metadata.values()


async def test_tokens_are_never_issued_over_plain_http(config, sessions):
    secret = given_client(sessions)
    app = Starlette(routes=auth_routes(config, sessions))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mes.plant.test") as http:
        response = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                   auth=("line-scanner", secret))

    assert response.status_code == 400 and response.json()["error"] == "insecure_transport"
