"""RFC 9068 JWT access tokens of the embedded authorization server: issuing and verifying.

`sub` names the principal exactly as audit rows record it ("user:<username>", "client:<client_id>"),
so a token is never ambiguous between a person and a machine.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator, JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jws
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from auth.config import AuthConfig
from auth.keys import private_key
from auth.principal import Unauthenticated  # noqa: F401  (re-exported: the API catches this one class)
from auth.scopes import format_scope, narrow_sites, parse_scope, scopes_for_roles
from models import SigningKey, User
from models.stored import stored_id

REFRESH_TOKEN_BYTES = 48


@dataclass(frozen=True)
class ResourceOwner:
    """The signed-in user a grant acts for, and when they typed their password."""

    user: User
    auth_time: int

    def get_user_id(self) -> int:
        return stored_id(self.user)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.user.roles or ())


class AccessTokenGenerator(JWTBearerTokenGenerator):
    """Signs with the active key; user tokens never exceed what the user's roles allow."""

    def __init__(self, config: AuthConfig, signing_key: SigningKey):
        super().__init__(
            issuer=config.issuer, alg=signing_key.private_jwk["alg"],
            refresh_token_generator=new_refresh_token, expires_generator=config.access_token_lifetime,
        )
        self._config = config
        self._signing_key = signing_key

    def get_jwks(self) -> KeySet:
        # A key set (not a bare key) makes joserfc write the `kid` header that rotation relies on.
        return KeySet([private_key(self._signing_key, self._config)])

    def get_audiences(self, client, user, scope) -> str:
        return self._config.audience

    def get_auth_time(self, user: ResourceOwner | None) -> int | None:
        return user.auth_time if user else None

    def get_extra_claims(self, client, grant_type, user: ResourceOwner | None, scope) -> dict:
        if user is None:
            return {"sub": f"client:{client.get_client_id()}", "name": client.name, "sites": sorted(client.sites)}
        return {
            "sub": f"user:{user.user.username}", "name": user.user.display_name,
            "preferred_username": user.user.username, "uid": user.user.id, "roles": sorted(user.roles),
            "sites": sorted(narrow_sites(user.user.sites or (), client.sites)),
        }

    def generate(self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        # The client's grant is checked first (invalid_scope if it asks beyond it); a user's token is
        # then narrowed to the user's roles, as a person may hold fewer rights than the app they use.
        scope = self.get_allowed_scope(client, scope)
        if user is not None:
            scope = format_scope(parse_scope(scope) & scopes_for_roles(user.roles))
        if not scope:
            # A token that may do nothing is refused outright (RFC 9068 validators reject a blank scope).
            raise InvalidScopeError("no requested scope is granted to this principal")
        return super().generate(grant_type, client, user, scope, expires_in, include_refresh_token)


def new_refresh_token(**_context) -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


class _Validator(JWTBearerTokenValidator):
    def __init__(self, config: AuthConfig, keys: KeySet):
        super().__init__(issuer=config.issuer, resource_server=config.audience)
        self._keys = keys

    def get_jwks(self) -> KeySet:
        return self._keys


def verify_access_token(token: str, *, keys: KeySet, config: AuthConfig) -> JWTAccessTokenClaims:
    """Signature, typ, exp, iat, iss, aud and the RFC 9068 required claims; raises Unauthenticated."""
    try:
        claims = _Validator(config, keys).authenticate_token(token)
    except InvalidTokenError as error:
        raise Unauthenticated(rejection_reason(error.__cause__)) from error
    try:
        claims.validate(now=config.now(), leeway=config.leeway)
    except JoseError as error:
        raise Unauthenticated(rejection_reason(error)) from error
    return claims


def unverified_parts(token: str) -> tuple[dict, dict]:
    """Header and claims, read only to choose the issuer and key that will verify them."""
    try:
        compact = jws.extract_compact(token.encode())
        claims = json.loads(compact.payload)
    except (JoseError, ValueError) as error:
        raise Unauthenticated("malformed_token") from error
    if not isinstance(claims, dict):
        raise Unauthenticated("malformed_token")
    return compact.headers(), claims


def rejection_reason(error: BaseException | None) -> str:
    if isinstance(error, ExpiredTokenError):
        return "expired_token"
    if isinstance(error, InvalidClaimError) and error.claim in ("aud", "iss"):
        return {"aud": "wrong_audience", "iss": "wrong_issuer"}[error.claim]
    if isinstance(error, (InvalidClaimError, MissingClaimError)):
        return "invalid_claims"
    if isinstance(error, BadSignatureError):
        return "invalid_signature"
    if isinstance(error, InvalidKeyIdError):
        return "unknown_key"
    return "malformed_token"
