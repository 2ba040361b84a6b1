"""Access tokens from trusted external identity providers, verified against their published JWKS.

Their people get our roles and sites from configurable claims; anything not in our vocabulary is
ignored, so a provider's unrelated groups never become rights here.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jwt import JWTClaimsRegistry

from auth.config import AuthConfig, TrustedIssuer
from auth.principal import Principal
from auth.scopes import known_roles, scopes_for_roles
from auth.tokens import Unauthenticated, rejection_reason

log = logging.getLogger(__name__)

# Asymmetric only: an HMAC algorithm would let anyone holding the public JWKS forge tokens.
EXTERNAL_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")


@dataclass
class _CachedKeys:
    keys: KeySet
    fetched_at: int


class ExternalIssuers:
    """Verifies external tokens; one JWKS cache per issuer, refetched when stale or a new key appears."""

    def __init__(self, config: AuthConfig):
        self._config = config
        self._cache: dict[str, _CachedKeys] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str, *, kid: str | None, trusted: TrustedIssuer) -> Principal:
        keys = self._keys_for(trusted, kid)
        try:
            decoded = jwt.decode(token, keys, algorithms=list(EXTERNAL_ALGORITHMS))
            _claims_registry(self._config, trusted).validate(decoded.claims)
        except JoseError as error:
            raise Unauthenticated(rejection_reason(error)) from error
        return principal_from_claims(decoded.claims, trusted)

    def _keys_for(self, trusted: TrustedIssuer, kid: str | None) -> KeySet:
        with self._lock:
            cached = self._cache.get(trusted.issuer)
            if cached is None or self._should_refetch(cached, kid):
                cached = self._fetch(trusted) or cached
            if cached is None:
                raise Unauthenticated("issuer_unavailable")
            return cached.keys

    def _should_refetch(self, cached: _CachedKeys, kid: str | None) -> bool:
        age = self._config.now() - cached.fetched_at
        if age >= self._config.jwks_cache_lifetime:
            return True
        unknown_kid = kid is not None and all(key.kid != kid for key in cached.keys)
        # Rate-limited: tokens with made-up key ids must not turn us into a request amplifier.
        return unknown_kid and age >= self._config.jwks_refetch_interval

    def _fetch(self, trusted: TrustedIssuer) -> _CachedKeys | None:
        try:
            document = self._config.fetch_jwks(trusted.jwks_url)
            keys = KeySet.import_key_set(cast(KeySetSerialization, document))  # import checks its shape
        except Exception:  # any failure of a remote party: keep the last good keys
            log.exception("could not fetch JWKS of %s from %s", trusted.issuer, trusted.jwks_url)
            return None
        cached = _CachedKeys(keys=keys, fetched_at=self._config.now())
        self._cache[trusted.issuer] = cached
        return cached


def _claims_registry(config: AuthConfig, trusted: TrustedIssuer) -> JWTClaimsRegistry:
    return JWTClaimsRegistry(
        now=config.now, leeway=config.leeway,
        iss={"essential": True, "value": trusted.issuer},
        aud={"essential": True, "value": trusted.audience},
        exp={"essential": True}, sub={"essential": True},
    )


def principal_from_claims(claims: dict, trusted: TrustedIssuer) -> Principal:
    roles = known_roles(value.upper() for value in _values(claim_at(claims, trusted.roles_claim)))
    username = claims.get("preferred_username") or claims["sub"]
    auth_time = claims.get("auth_time")
    return Principal(
        # Qualified by the provider's host, so an external "alice" is never mistaken for our own.
        subject=f"user:{username}@{urlsplit(trusted.issuer).netloc}",
        name=claims.get("name") or username, kind="user", roles=roles, scopes=scopes_for_roles(roles),
        sites=frozenset(_values(claim_at(claims, trusted.sites_claim))),
        auth_time=int(auth_time) if isinstance(auth_time, (int, float)) else None,
        issuer=trusted.issuer, claims=dict(claims),
    )


def claim_at(claims: dict, path: str):
    """A claim by dotted path ("realm_access.roles"); None when any step is missing."""
    value: object = claims
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _values(value) -> list[str]:
    """Providers send lists, or space/comma-separated strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, (list, tuple)):
        return [str(part) for part in value]
    return []
