"""People sign in through the login form; apps get their tokens by code + PKCE S256 (RFC 6749 §4.1, RFC 7636)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from kernel.database import unit_of_work
from models import AuditRecord, User
from tests.auth.conftest import PASSWORD, REDIRECT_URI, bearer, given_client, given_user, pkce_pair

pytestmark = pytest.mark.anyio

APP_SCOPES = ("triggers:write", "genealogy:read", "inventory:write", "reports:read", "signatures:sign")


def given_app(sessions, *, public=False):
    return given_client(sessions, "shopfloor-app", scopes=APP_SCOPES, sites=["*"], public=public,
                        grant_types=["authorization_code", "refresh_token"], redirect_uris=[REDIRECT_URI])


def authorize_params(challenge, **overrides):
    params = {"response_type": "code", "client_id": "shopfloor-app", "redirect_uri": REDIRECT_URI,
              "state": "xyz", "code_challenge": challenge, "code_challenge_method": "S256"}
    return {**params, **overrides}


async def sign_in(http, params, username="olivia", password=PASSWORD):
    page = await http.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return await http.post("/oauth/authorize", params=params,
                           data={"username": username, "password": password, "csrf": csrf})


def redirect_query(response) -> dict:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {name: values[0] for name, values in parse_qs(location.query).items()}


async def exchange(http, code, verifier, auth=None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier, **extra}
    return await http.post("/oauth/token", data=data, auth=auth)


async def test_a_user_signs_in_and_the_app_exchanges_the_code_then_refreshes(http, sessions, authenticator):
    secret = given_app(sessions)
    given_user(sessions, "olivia", roles=["OPERATOR"], sites=["PL1"], display_name="Olivia Park")
    verifier, challenge = pkce_pair()

    redirect = redirect_query(await sign_in(http, authorize_params(challenge)))
    assert redirect["state"] == "xyz"
    tokens = (await exchange(http, redirect["code"], verifier, auth=("shopfloor-app", secret))).json()
    refreshed = (await http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=("shopfloor-app", secret)))

    principal = authenticator.authenticate(bearer(tokens["access_token"]))
    assert (principal.subject, principal.name, principal.kind) == ("user:olivia", "Olivia Park", "user")
    assert principal.roles == {"OPERATOR"} and principal.sites == {"PL1"} and principal.auth_time
    assert principal.scopes == {"triggers:write", "genealogy:read", "inventory:write", "signatures:sign"}
    assert refreshed.status_code == 200, refreshed.text
    again = authenticator.authenticate(bearer(refreshed.json()["access_token"]))
    assert again.subject == "user:olivia" and again.auth_time == principal.auth_time
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]


async def test_a_refresh_token_works_only_once(http, sessions):
    secret = given_app(sessions)
    given_user(sessions)
    verifier, challenge = pkce_pair()
    code = redirect_query(await sign_in(http, authorize_params(challenge)))["code"]
    refresh_token = (await exchange(http, code, verifier, auth=("shopfloor-app", secret))).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}

    first = await http.post("/oauth/token", data=form, auth=("shopfloor-app", secret))
    second = await http.post("/oauth/token", data=form, auth=("shopfloor-app", secret))

    assert first.status_code == 200 and second.json()["error"] == "invalid_grant"


async def signed_in_tokens(http, secret) -> dict:
    verifier, challenge = pkce_pair()
    code = redirect_query(await sign_in(http, authorize_params(challenge)))["code"]
    return (await exchange(http, code, verifier, auth=("shopfloor-app", secret))).json()


async def refresh(http, secret, refresh_token):
    return await http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                           auth=("shopfloor-app", secret))


async def test_replaying_a_spent_refresh_token_revokes_every_token_of_its_family(http, sessions):
    """Given two sign-ins, when a stolen, already rotated refresh token is replayed, then its whole
    family dies (the thief's and the user's current token alike) and the other sign-in lives on."""
    secret = given_app(sessions)
    given_user(sessions)
    stolen = (await signed_in_tokens(http, secret))["refresh_token"]
    elsewhere = (await signed_in_tokens(http, secret))["refresh_token"]
    current = (await refresh(http, secret, stolen)).json()["refresh_token"]

    replay = await refresh(http, secret, stolen)
    after_replay = await refresh(http, secret, current)
    other_sign_in = await refresh(http, secret, elsewhere)

    assert replay.json()["error"] == "invalid_grant"
    assert after_replay.json()["error"] == "invalid_grant"
    assert other_sign_in.status_code == 200, other_sign_in.text
    with unit_of_work(sessions) as session:
        reused = session.scalars(select(AuditRecord).where(AuditRecord.action == "refresh_token.reused")).one()
        assert reused.actor == "client:shopfloor-app" and reused.after["revoked"] == 1


async def test_a_refreshed_token_carries_the_roles_the_user_holds_now(http, sessions, authenticator):
    secret = given_app(sessions)
    given_user(sessions, roles=["OPERATOR"])
    verifier, challenge = pkce_pair()
    code = redirect_query(await sign_in(http, authorize_params(challenge)))["code"]
    refresh_token = (await exchange(http, code, verifier, auth=("shopfloor-app", secret))).json()["refresh_token"]
    with unit_of_work(sessions) as session:
        session.scalars(select(User).where(User.username == "olivia")).one().roles = ["SUPERVISOR"]
        session.commit()

    refreshed = await http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                                auth=("shopfloor-app", secret))

    assert authenticator.authenticate(bearer(refreshed.json()["access_token"])).roles == {"SUPERVISOR"}


async def test_a_browser_app_without_a_secret_uses_pkce_alone(http, sessions, authenticator):
    given_app(sessions, public=True)
    given_user(sessions, roles=["QA"])
    verifier, challenge = pkce_pair()
    code = redirect_query(await sign_in(http, authorize_params(challenge)))["code"]

    response = await exchange(http, code, verifier, client_id="shopfloor-app")

    assert response.status_code == 200, response.text
    principal = authenticator.authenticate(bearer(response.json()["access_token"]))
    assert principal.scopes == {"genealogy:read", "inventory:write", "reports:read", "signatures:sign"}


async def test_an_authorization_request_without_pkce_is_sent_back_as_invalid_request(http, sessions):
    given_app(sessions)
    params = authorize_params("x", code_challenge=None, code_challenge_method=None)

    response = await http.get("/oauth/authorize", params={k: v for k, v in params.items() if v})

    assert redirect_query(response)["error"] == "invalid_request"


async def test_plain_pkce_is_refused(http, sessions):
    given_app(sessions)
    _, challenge = pkce_pair()

    response = await http.get("/oauth/authorize", params=authorize_params(challenge, code_challenge_method="plain"))

    assert redirect_query(response)["error"] == "invalid_request"


async def test_a_wrong_code_verifier_is_refused_with_invalid_grant(http, sessions):
    secret = given_app(sessions)
    given_user(sessions)
    _, challenge = pkce_pair()
    code = redirect_query(await sign_in(http, authorize_params(challenge)))["code"]

    response = await exchange(http, code, pkce_pair()[0], auth=("shopfloor-app", secret))

    assert response.json()["error"] == "invalid_grant"


async def test_a_code_can_be_exchanged_only_once(http, sessions):
    secret = given_app(sessions)
    given_user(sessions)
    verifier, challenge = pkce_pair()
    code = redirect_query(await sign_in(http, authorize_params(challenge)))["code"]

    first = await exchange(http, code, verifier, auth=("shopfloor-app", secret))
    second = await exchange(http, code, verifier, auth=("shopfloor-app", secret))

    assert first.status_code == 200 and second.json()["error"] == "invalid_grant"


async def test_a_wrong_password_shows_the_form_again_without_a_code(http, sessions):
    given_app(sessions)
    given_user(sessions)
    _, challenge = pkce_pair()

    response = await sign_in(http, authorize_params(challenge), password="wrong password!")

    assert response.status_code == 200 and "Wrong user name or password" in response.text


async def test_a_sign_in_post_without_the_forms_csrf_token_is_refused(http, sessions):
    given_app(sessions)
    given_user(sessions)
    _, challenge = pkce_pair()

    response = await http.post("/oauth/authorize", params=authorize_params(challenge),
                               data={"username": "olivia", "password": PASSWORD, "csrf": "forged"})

    assert response.status_code == 200 and "expired" in response.text


async def test_an_unregistered_redirect_uri_is_never_followed(http, sessions):
    given_app(sessions)
    _, challenge = pkce_pair()

    response = await http.get("/oauth/authorize",
                              params=authorize_params(challenge, redirect_uri="https://evil.test/cb"))

    assert response.status_code == 400 and "location" not in response.headers


async def test_an_app_asking_beyond_its_scopes_gets_invalid_scope(http, sessions):
    given_app(sessions)
    _, challenge = pkce_pair()

    response = await http.get("/oauth/authorize", params=authorize_params(challenge, scope="admin"))

    assert redirect_query(response)["error"] == "invalid_scope"


async def test_a_user_whose_roles_grant_none_of_the_requested_scopes_gets_invalid_scope(http, sessions):
    secret = given_app(sessions)
    given_user(sessions, "pat", roles=["PARTNER"])
    verifier, challenge = pkce_pair()
    code = redirect_query(await sign_in(http, authorize_params(challenge, scope="triggers:write"), "pat"))["code"]

    response = await exchange(http, code, verifier, auth=("shopfloor-app", secret))

    assert response.json()["error"] == "invalid_scope" and "access_token" not in response.json()
