"""Where this server says it is: the issuer named when BACKFLUSH_AUTH_ISSUER is not set.

The identity settings themselves are read with every other setting (kernel.auth_settings, Settings.auth).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from kernel.auth_settings import (
    SIGNING_ALGORITHMS,
    AuthConfig,
    JwksFetcher,
    TrustedIssuer,
    fetch_jwks_over_http,
    key_encryption_keys,
    parse_trusted_issuers,
)

__all__ = ["SIGNING_ALGORITHMS", "WILDCARD_HOSTS", "AuthConfig", "JwksFetcher", "TrustedIssuer", "fetch_jwks_over_http",
           "issuer_port_warning", "key_encryption_keys", "parse_trusted_issuers", "served_issuer"]

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def served_issuer(host: str, port: int) -> str:
    """The issuer a server bound to host:port names when BACKFLUSH_AUTH_ISSUER is not set.

    A wildcard bind has no address of its own to name: localhost is right only for this machine,
    which is why the serve command says so and asks for BACKFLUSH_AUTH_ISSUER.
    """
    name = "localhost" if host in WILDCARD_HOSTS else host
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def issuer_port_warning(issuer: str, port: int) -> str | None:
    """Said at start when the configured issuer names another port than the served one."""
    parsed = urlsplit(issuer)
    named = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
    if named == port:
        return None
    return (f"BACKFLUSH_AUTH_ISSUER {issuer} names port {named} but this server listens on port {port}: tokens and "
            f"discovery send clients to port {named}, which is right only behind a proxy forwarding it here")
