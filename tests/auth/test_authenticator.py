"""The Authenticator accepts only unexpired, untampered tokens meant for us, from issuers we trust."""
from __future__ import annotations

import base64
import json
import time
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from auth import admin, keys
from auth.authenticate import Authenticator, Unauthenticated
from auth.config import TrustedIssuer
from auth.oauth_server import BackflushAuthorizationServer
from kernel.database import unit_of_work
from tests.auth.conftest import AUDIENCE, ISSUER, bearer, given_client

IDP = "https://idp.plant.test/realms/plant"


def issue_client_token(sessions, config, client_id="line-scanner") -> str:
    with unit_of_work(sessions) as session:
        server = BackflushAuthorizationServer(session, config)
        token = server.generate_token("client_credentials", server.query_client(client_id),
                                      include_refresh_token=False)
        session.commit()
    return token["access_token"]


def sign_with_our_key(sessions, config, **overrides) -> str:
    """A token our key really signed, with claims of the test's choosing."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "client:line-scanner", "client_id": "line-scanner",
              "iat": now, "exp": now + 300, "jti": "j1", "scope": "triggers:write", **overrides}
    with unit_of_work(sessions) as session:
        key = keys.private_key(keys.active_signing_key(session, config), config)
        session.commit()
    return jwt.encode({"alg": "ES256", "typ": "at+jwt"}, claims, KeySet([key]))


def _kid(token: str) -> str:
    return _header(token)["kid"]


def _header(token: str) -> dict:
    encoded = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def rejection(authenticator, header) -> str:
    with pytest.raises(Unauthenticated) as refused:
        authenticator.authenticate(header)
    return refused.value.reason


@pytest.fixture
def token(sessions, config):
    given_client(sessions)
    return issue_client_token(sessions, config)


def test_a_valid_token_names_the_client_its_scopes_and_sites(authenticator, token):
    principal = authenticator.authenticate(bearer(token))

    assert principal.subject == "client:line-scanner" and principal.issuer is None
    assert principal.scopes == {"triggers:write", "genealogy:read"} and principal.sites == {"PL1"}


def test_a_request_without_a_bearer_token_is_unauthenticated(authenticator):
    assert rejection(authenticator, None) == "missing_token"
    assert rejection(authenticator, "Basic b2xpdmlhOnB3") == "malformed_token"
    assert rejection(authenticator, "Bearer not-a-jwt") == "malformed_token"


def test_an_expired_token_is_refused(authenticator, token, clock, config):
    clock.advance(config.access_token_lifetime + config.leeway + 1)

    assert rejection(authenticator, bearer(token)) == "expired_token"


def test_a_token_within_the_tolerated_clock_skew_is_still_accepted(authenticator, token, clock, config):
    clock.advance(config.access_token_lifetime + config.leeway - 5)

    assert authenticator.authenticate(bearer(token)).subject == "client:line-scanner"


def test_a_tampered_token_is_refused(authenticator, token):
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    assert rejection(authenticator, bearer(f"{header}.{forged}.{signature}")) == "invalid_signature"


def test_a_token_meant_for_another_audience_is_refused(authenticator, sessions, config):
    assert rejection(authenticator, bearer(sign_with_our_key(sessions, config, aud="mes-reporting"))) \
        == "wrong_audience"


def test_a_token_from_an_issuer_we_do_not_trust_is_refused(authenticator):
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    now = int(time.time())
    token = jwt.encode({"alg": "ES256"}, {"iss": "https://evil.test", "aud": AUDIENCE, "sub": "user:admin",
                                          "exp": now + 300}, KeySet([stranger]))

    assert rejection(authenticator, bearer(token)) == "wrong_issuer"


def test_a_token_claiming_our_issuer_but_signed_by_a_stranger_is_refused(authenticator, sessions, config):
    sign_with_our_key(sessions, config)  # our key exists
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    token = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, {"iss": ISSUER, "aud": AUDIENCE}, KeySet([stranger]))

    assert rejection(authenticator, bearer(token)) == "unknown_key"


def test_an_unsigned_token_is_refused(authenticator, token):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": "x"}).encode()).rstrip(b"=").decode()

    assert rejection(authenticator, bearer(f"{header}.{token.split('.')[1]}.")) in {"unknown_key", "malformed_token"}


def test_a_token_without_a_client_id_breaks_rfc_9068_and_is_refused(authenticator, sessions, config):
    assert rejection(authenticator, bearer(sign_with_our_key(sessions, config, client_id=None))) \
        == "invalid_claims"


def test_rotating_keys_keeps_tokens_signed_by_the_old_key_valid(authenticator, sessions, config, token, clock):
    authenticator.authenticate(bearer(token))  # the old key is cached now
    with unit_of_work(sessions) as session:
        admin.rotate_keys(session, config)
        session.commit()

    newer = issue_client_token(sessions, config)

    assert authenticator.authenticate(bearer(token)).subject == "client:line-scanner"
    assert authenticator.authenticate(bearer(newer)).subject == "client:line-scanner"
    assert _kid(newer) != _kid(token)
    with unit_of_work(sessions) as session:
        assert {row.kid for row in keys.published_keys(session, config)} == {_kid(token), _kid(newer)}
    clock.advance(config.access_token_lifetime + config.leeway + 1)
    with unit_of_work(sessions) as session:
        assert {row.kid for row in keys.published_keys(session, config)} == {_kid(newer)}


def test_rs256_keys_sign_and_verify_too(sessions, config):
    rsa_config = replace(config, signing_alg="RS256")
    given_client(sessions)

    token = issue_client_token(sessions, rsa_config)

    assert _header(token)["alg"] == "RS256"
    assert Authenticator(rsa_config, sessions).authenticate(bearer(token)).kind == "client"


class FakeIdentityProvider:
    """An external issuer whose keys the test holds: its JWKS is served without any network."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)
        self.fetches: list[str] = []

    def fetch_jwks(self, url: str) -> dict:
        self.fetches.append(url)
        return KeySet([self.key]).as_dict(private=False)

    def token(self, key=None, **overrides) -> str:
        now = int(time.time())
        claims = {"iss": IDP, "aud": "backflush", "sub": "f3a9", "preferred_username": "alice",
                  "name": "Alice Moreau", "exp": now + 300, "iat": now, "auth_time": now - 60,
                  "realm_access": {"roles": ["qa", "offline_access"]}, "plant_sites": "PL1 PL2", **overrides}
        return jwt.encode({"alg": "RS256", "kid": (key or self.key).kid}, claims, key or self.key)


@pytest.fixture
def idp():
    return FakeIdentityProvider()


@pytest.fixture
def external_authenticator(config, sessions, idp):
    trusted = TrustedIssuer(issuer=IDP, jwks_url=f"{IDP}/protocol/openid-connect/certs", audience="backflush",
                            roles_claim="realm_access.roles", sites_claim="plant_sites")
    return Authenticator(replace(config, trusted_issuers=(trusted,), fetch_jwks=idp.fetch_jwks), sessions)


def test_a_trusted_external_issuers_token_maps_claims_to_roles_and_sites(external_authenticator, idp):
    principal = external_authenticator.authenticate(bearer(idp.token()))

    assert principal.subject == "user:alice@idp.plant.test" and principal.name == "Alice Moreau"
    assert principal.kind == "user" and principal.issuer == IDP and principal.user_id is None
    assert principal.roles == {"QA"} and principal.sites == {"PL1", "PL2"}
    assert "rules:write" in principal.scopes and principal.auth_time is not None


def test_an_external_token_for_another_audience_is_refused(external_authenticator, idp):
    assert rejection(external_authenticator, bearer(idp.token(aud="other-app"))) == "wrong_audience"


def test_an_expired_external_token_is_refused(external_authenticator, idp, clock):
    clock.advance(3600)

    assert rejection(external_authenticator, bearer(idp.token())) == "expired_token"


def test_unknown_external_key_ids_do_not_make_us_refetch_on_every_request(external_authenticator, idp):
    impostor = RSAKey.generate_key(2048, auto_kid=True)
    external_authenticator.authenticate(bearer(idp.token()))

    for _ in range(3):
        assert rejection(external_authenticator, bearer(idp.token(key=impostor))) == "unknown_key"

    assert len(idp.fetches) == 1
