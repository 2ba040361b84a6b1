"""The one seam the API calls: an Authorization header in, a Principal out, or Unauthenticated.

Tokens of the embedded server are checked against our published signing keys; tokens of a trusted
external issuer against that issuer's JWKS. Anything else is refused with a stable reason code.
"""
from __future__ import annotations

import threading
from dataclasses import replace

from joserfc.jwk import Key, KeySet
from sqlalchemy.orm import Session, sessionmaker

from auth import keys
from auth.config import AuthConfig
from auth.external import ExternalIssuers
from auth.principal import Principal
from auth.scopes import USER_ONLY_SCOPES, known_roles, narrow_sites, parse_scope, scopes_for_roles
from auth.tokens import Unauthenticated, unverified_parts, verify_access_token
from models import User

__all__ = ["Authenticator", "Unauthenticated", "principal_from_access_token"]

# Reloading our key list this often lets a deleted (compromised) key stop working within a minute.
KEY_CACHE_SECONDS = 60


class Authenticator:
    def __init__(self, config: AuthConfig, sessions: sessionmaker[Session]):
        self._config = config
        self._sessions = sessions
        self._external = ExternalIssuers(config)
        self._keys: dict[str | None, Key] = {}
        self._keys_loaded_at: int | None = None
        self._lock = threading.Lock()

    def authenticate(self, authorization_header: str | None) -> Principal:
        token = bearer_token(authorization_header)
        header, claims = unverified_parts(token)
        issuer = claims.get("iss")
        if issuer == self._config.issuer:
            verified = verify_access_token(token, keys=self._embedded_keys(header.get("kid")), config=self._config)
            principal = principal_from_access_token(dict(verified))
            return self._as_the_user_is_now(principal) if principal.is_user else principal
        trusted = self._config.trusted_issuer(issuer) if isinstance(issuer, str) else None
        if trusted is None:
            raise Unauthenticated("wrong_issuer")
        return self._external.authenticate(token, kid=header.get("kid"), trusted=trusted)

    def _as_the_user_is_now(self, principal: Principal) -> Principal:
        """A deactivated user's tokens stop at once; a token never grants more than the user holds now
        (roles and sites changed since it was issued narrow it until the next refresh)."""
        with self._sessions() as session:
            user = session.get(User, principal.user_id) if isinstance(principal.user_id, int) else None
            if user is None or not user.active:
                raise Unauthenticated("user_inactive")
            roles = principal.roles & known_roles(user.roles or ())
            return replace(principal, roles=roles, scopes=principal.scopes & scopes_for_roles(roles),
                           sites=narrow_sites(principal.sites, user.sites or ()))

    def _embedded_keys(self, kid: str | None) -> KeySet:
        if not isinstance(kid, str):
            raise Unauthenticated("unknown_key")
        with self._lock:
            if self._keys_loaded_at is None or self._config.now() - self._keys_loaded_at >= KEY_CACHE_SECONDS:
                self._reload_keys()
            elif kid not in self._keys:
                self._load_key(kid)  # a key rotated in since the last reload: one indexed lookup
            if kid not in self._keys:
                raise Unauthenticated("unknown_key")
            return KeySet([self._keys[kid]])

    def _reload_keys(self) -> None:
        with self._sessions() as session:
            rows = keys.published_keys(session, self._config)
        self._keys = {key.kid: key for key in keys.public_key_set(rows)}
        self._keys_loaded_at = self._config.now()

    def _load_key(self, kid: str) -> None:
        with self._sessions() as session:
            row = keys.find_published_key(session, self._config, kid)
        if row is not None:
            self._keys[kid] = keys.public_key_set([row]).keys[0]


def bearer_token(authorization_header: str | None) -> str:
    if not authorization_header or not authorization_header.strip():
        raise Unauthenticated("missing_token")
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("malformed_token")
    return token.strip()


def principal_from_access_token(claims: dict) -> Principal:
    """Roles and sites are those the embedded server wrote at token time."""
    kind, _, name = str(claims.get("sub", "")).partition(":")
    scope = parse_scope(claims.get("scope"))
    sites = frozenset(claims.get("sites") or ())
    if kind == "user" and name:
        roles = known_roles(claims.get("roles") or ())
        return Principal(
            subject=f"user:{name}", name=claims.get("name") or name, kind="user", roles=roles,
            scopes=scope & scopes_for_roles(roles), sites=sites, user_id=claims.get("uid"),
            auth_time=claims.get("auth_time"), issuer=None, claims=claims,
        )
    if kind == "client" and name:
        return Principal(
            subject=f"client:{name}", name=claims.get("name") or name, kind="client",
            scopes=scope - USER_ONLY_SCOPES, sites=sites, issuer=None, claims=claims,
        )
    raise Unauthenticated("invalid_claims")
