"""Signing keys of the embedded authorization server, kept in the SigningKey table.

The newest unretired key signs. Rotation retires it but keeps it published (JWKS) and trusted until
every token it signed has expired, so nobody is logged out by a rotation.

At rest the private half is sealed (Fernet: AES-128-CBC + HMAC-SHA256) with the key encryption key of
BACKFLUSH_KEY_ENCRYPTION_KEY(_FILE); the public half stays readable, so verifying tokens never needs
that key. A key stored before encryption was configured keeps working, in plain text, until
`backflush encrypt-keys` seals it.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from joserfc.jwk import ECKey, KeyParameters, KeySet, KeySetSerialization, RSAKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.config import AuthConfig
from models import SigningKey

AnyKey = ECKey | RSAKey
SEALED = "sealed"

log = logging.getLogger(__name__)


class KeyEncryptionError(RuntimeError):
    """A sealed signing key cannot be opened with the configured key encryption keys."""


def generate_key(alg: str) -> AnyKey:
    parameters: KeyParameters = {"alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True, auto_kid=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=parameters, private=True, auto_kid=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def create_signing_key(session: Session, config: AuthConfig, *, alg: str, now: datetime) -> SigningKey:
    key = generate_key(alg)
    if key.kid is None:  # auto_kid sets it
        raise ValueError("a generated signing key has no kid")
    row = SigningKey(kid=key.kid, private_jwk=_stored(key, config), created_at=now)
    session.add(row)
    session.flush()
    return row


def active_signing_key(session: Session, config: AuthConfig) -> SigningKey:
    """The key that signs now; the first token ever issued creates one."""
    query = select(SigningKey).where(col(SigningKey.retired_at).is_(None)).order_by(
        col(SigningKey.created_at).desc(), col(SigningKey.id).desc()).limit(1)
    row = session.scalars(query).first()
    return row or create_signing_key(session, config, alg=config.signing_alg, now=_now(config))


def rotate(session: Session, config: AuthConfig, *, alg: str | None = None) -> SigningKey:
    now = _now(config)
    for row in session.scalars(select(SigningKey).where(col(SigningKey.retired_at).is_(None))):
        row.retired_at = now
    return create_signing_key(session, config, alg=alg or config.signing_alg, now=now)


def published_keys(session: Session, config: AuthConfig) -> list[SigningKey]:
    query = select(SigningKey).where(_still_trusted(config)).order_by(col(SigningKey.id))
    return list(session.scalars(query))


def find_published_key(session: Session, config: AuthConfig, kid: str) -> SigningKey | None:
    return session.scalars(select(SigningKey).where(col(SigningKey.kid) == kid, _still_trusted(config))).first()


def _still_trusted(config: AuthConfig):
    # A retired key verifies until the last token it signed has expired (plus the tolerated skew).
    horizon = _now(config) - timedelta(seconds=config.access_token_lifetime + config.leeway)
    return or_(col(SigningKey.retired_at).is_(None), col(SigningKey.retired_at) > horizon)


def private_key(row: SigningKey, config: AuthConfig) -> AnyKey:
    stored = row.private_jwk
    if SEALED not in stored:
        return _imported(stored)
    if not config.key_encryption_keys:
        raise KeyEncryptionError(f"signing key {row.kid} is encrypted: set BACKFLUSH_KEY_ENCRYPTION_KEY(_FILE)")
    try:
        return _imported(json.loads(_cipher(config).decrypt(stored[SEALED].encode())))
    except InvalidToken:
        raise KeyEncryptionError(f"signing key {row.kid} does not open with BACKFLUSH_KEY_ENCRYPTION_KEY "
                                 "(list the key it was sealed with after the new one)") from None


def seal_stored_keys(session: Session, config: AuthConfig) -> list[SigningKey]:
    """Seal keys stored in plain text, and reseal the others under the first encryption key; the changed rows."""
    if not config.key_encryption_keys:
        raise KeyEncryptionError("nothing to seal with: set BACKFLUSH_KEY_ENCRYPTION_KEY(_FILE)")
    changed = []
    for row in session.scalars(select(SigningKey).order_by(col(SigningKey.id))):
        if SEALED not in row.private_jwk or not _opens_with(config.key_encryption_keys[0], row.private_jwk):
            row.private_jwk = _stored(private_key(row, config), config)
            changed.append(row)
    return changed


def public_key_set(rows: list[SigningKey]) -> KeySet:
    return KeySet([_public(row) for row in rows])


def jwks_document(rows: list[SigningKey]) -> KeySetSerialization:
    return public_key_set(rows).as_dict(private=False)


def _public(row: SigningKey) -> AnyKey:
    stored = row.private_jwk
    return _imported(stored["public"] if SEALED in stored else _imported(stored).as_dict(private=False))


def _stored(key: AnyKey, config: AuthConfig) -> dict:
    if not config.key_encryption_keys:
        log.warning("signing key %s is stored in plain text: set BACKFLUSH_KEY_ENCRYPTION_KEY", key.kid)
        return key.as_dict(private=True)
    public = key.as_dict(private=False)
    sealed = _cipher(config).encrypt(json.dumps(key.as_dict(private=True)).encode()).decode()
    return {"kid": key.kid, "alg": public["alg"], "public": public, SEALED: sealed}


def _opens_with(key: str, stored: dict) -> bool:
    try:
        Fernet(key).decrypt(stored[SEALED].encode())
    except InvalidToken:
        return False
    return True


def _cipher(config: AuthConfig) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in config.key_encryption_keys])


def _imported(jwk: dict) -> AnyKey:
    key = KeySet.import_key_set({"keys": [jwk]}).keys[0]
    if not isinstance(key, (ECKey, RSAKey)):  # we only ever generate and store these (RS256, ES256)
        raise TypeError(f"a signing key is {type(key).__name__}, not RSA or EC")
    return key


def _now(config: AuthConfig) -> datetime:
    return datetime.fromtimestamp(config.now(), tz=UTC)
