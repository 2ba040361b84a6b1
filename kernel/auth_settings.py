"""Identity settings (tokens, keys, trusted identity providers), read from the environment once.

They live below auth and backflush so the one `Settings` object can carry them (`Settings.auth`);
`auth.config` re-exports them for the identity code.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.fernet import Fernet

SIGNING_ALGORITHMS = ("RS256", "ES256")

JwksFetcher = Callable[[str], dict]


def fetch_jwks_over_http(url: str) -> dict:
    import httpx  # only the external-issuer path needs it

    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    return response.json()


@dataclass(frozen=True)
class TrustedIssuer:
    """An external identity provider whose access tokens we accept (e.g. the plant's Keycloak or Entra ID).

    `roles_claim` and `sites_claim` name where its tokens carry our roles and site codes;
    a dotted path reaches into nested claims, e.g. "realm_access.roles".
    """

    issuer: str
    jwks_url: str
    audience: str
    roles_claim: str = "roles"
    sites_claim: str = "sites"

    @classmethod
    def from_dict(cls, entry: dict) -> TrustedIssuer:
        missing = [key for key in ("issuer", "jwks_url", "audience") if not entry.get(key)]
        if missing:
            raise ValueError(f"BACKFLUSH_TRUSTED_ISSUERS entry lacks {', '.join(missing)}: {entry!r}")
        return cls(
            issuer=entry["issuer"], jwks_url=entry["jwks_url"], audience=entry["audience"],
            roles_claim=entry.get("roles_claim") or "roles", sites_claim=entry.get("sites_claim") or "sites",
        )


@dataclass(frozen=True)
class AuthConfig:
    issuer: str = "http://localhost:8000"
    audience: str = "backflush-api"
    access_token_lifetime: int = 900  # seconds; short, because access tokens cannot be revoked
    refresh_token_lifetime: int = 8 * 3600  # one shift
    authorization_code_lifetime: int = 120
    signing_alg: str = "RS256"
    leeway: int = 30  # clock skew tolerated on exp/iat
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    # Fernet keys sealing private signing keys at rest; the first seals, all open (rotation).
    key_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    jwks_refetch_interval: int = 60  # at most one fetch per issuer this often, even for unknown key ids
    jwks_cache_lifetime: int = 3600
    # Injected so tests (and air-gapped plants) never touch the network, and can move time.
    fetch_jwks: JwksFetcher = field(default=fetch_jwks_over_http, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    def __post_init__(self):
        if self.signing_alg not in SIGNING_ALGORITHMS:
            raise ValueError(f"signing algorithm must be one of {SIGNING_ALGORITHMS}, got {self.signing_alg!r}")
        if self.access_token_lifetime <= 0 or self.refresh_token_lifetime <= 0:
            raise ValueError("token lifetimes must be positive")
        for key in self.key_encryption_keys:
            Fernet(key)  # a malformed key stops the start: ValueError

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, fetch_jwks: JwksFetcher | None = None) -> AuthConfig:
        env = os.environ if environ is None else environ
        return cls(
            issuer=env.get("BACKFLUSH_AUTH_ISSUER", cls.issuer).rstrip("/"),
            audience=env.get("BACKFLUSH_AUTH_AUDIENCE", cls.audience),
            access_token_lifetime=int(env.get("BACKFLUSH_ACCESS_TOKEN_LIFETIME", cls.access_token_lifetime)),
            refresh_token_lifetime=int(env.get("BACKFLUSH_REFRESH_TOKEN_LIFETIME", cls.refresh_token_lifetime)),
            signing_alg=env.get("BACKFLUSH_SIGNING_ALG", cls.signing_alg),
            leeway=int(env.get("BACKFLUSH_TOKEN_LEEWAY", cls.leeway)),
            trusted_issuers=parse_trusted_issuers(env.get("BACKFLUSH_TRUSTED_ISSUERS", "")),
            key_encryption_keys=key_encryption_keys(env),
            fetch_jwks=fetch_jwks or fetch_jwks_over_http,
        )

    def now(self) -> int:
        return int(self.clock())

    def trusted_issuer(self, issuer: str) -> TrustedIssuer | None:
        return next((trusted for trusted in self.trusted_issuers if trusted.issuer == issuer), None)

    def endpoint(self, path: str) -> str:
        return self.issuer.rstrip("/") + path


def key_encryption_keys(env) -> tuple[str, ...]:
    """BACKFLUSH_KEY_ENCRYPTION_KEY (comma-separated) or BACKFLUSH_KEY_ENCRYPTION_KEY_FILE (one a line)."""
    text = env.get("BACKFLUSH_KEY_ENCRYPTION_KEY", "")
    if not text and env.get("BACKFLUSH_KEY_ENCRYPTION_KEY_FILE"):
        with open(env["BACKFLUSH_KEY_ENCRYPTION_KEY_FILE"], encoding="ascii") as file:
            text = ",".join(file.read().split())
    return tuple(key.strip() for key in text.split(",") if key.strip())


def parse_trusted_issuers(text: str) -> tuple[TrustedIssuer, ...]:
    if not text.strip():
        return ()
    entries = json.loads(text)
    if not isinstance(entries, list):
        raise ValueError("BACKFLUSH_TRUSTED_ISSUERS must be a JSON list of issuer objects")
    return tuple(TrustedIssuer.from_dict(entry) for entry in entries)
