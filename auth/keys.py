"""Signing keys of the embedded authorization server, kept in the SigningKey table.

The newest unretired key signs. Rotation retires it but keeps it published (JWKS) and trusted until
every token it signed has expired, so nobody is logged out by a rotation.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from auth.config import AuthConfig
from models import SigningKey

AnyKey = ECKey | RSAKey


def generate_key(alg: str) -> AnyKey:
    parameters = {"alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True, auto_kid=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=parameters, private=True, auto_kid=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def create_signing_key(session: Session, *, alg: str, now: datetime) -> SigningKey:
    key = generate_key(alg)
    row = SigningKey(kid=key.kid, private_jwk=key.as_dict(private=True), created_at=now)
    session.add(row)
    session.flush()
    return row


def active_signing_key(session: Session, config: AuthConfig) -> SigningKey:
    """The key that signs now; the first token ever issued creates one."""
    query = select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(
        SigningKey.created_at.desc(), SigningKey.id.desc()).limit(1)
    row = session.scalars(query).first()
    return row or create_signing_key(session, alg=config.signing_alg, now=_now(config))


def rotate(session: Session, config: AuthConfig, *, alg: str | None = None) -> SigningKey:
    now = _now(config)
    for row in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    return create_signing_key(session, alg=alg or config.signing_alg, now=now)


def published_keys(session: Session, config: AuthConfig) -> list[SigningKey]:
    query = select(SigningKey).where(_still_trusted(config)).order_by(SigningKey.id)
    return list(session.scalars(query))


def find_published_key(session: Session, config: AuthConfig, kid: str) -> SigningKey | None:
    return session.scalars(select(SigningKey).where(SigningKey.kid == kid, _still_trusted(config))).first()


def _still_trusted(config: AuthConfig):
    # A retired key verifies until the last token it signed has expired (plus the tolerated skew).
    horizon = _now(config) - timedelta(seconds=config.access_token_lifetime + config.leeway)
    return or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > horizon)


def private_key(row: SigningKey) -> AnyKey:
    return KeySet.import_key_set({"keys": [row.private_jwk]}).keys[0]


def public_key_set(rows: list[SigningKey]) -> KeySet:
    return KeySet([_public(row) for row in rows])


def jwks_document(rows: list[SigningKey]) -> dict:
    return public_key_set(rows).as_dict(private=False)


def _public(row: SigningKey) -> AnyKey:
    public = private_key(row).as_dict(private=False)
    return KeySet.import_key_set({"keys": [public]}).keys[0]


def _now(config: AuthConfig) -> datetime:
    return datetime.fromtimestamp(config.now(), tz=timezone.utc)
