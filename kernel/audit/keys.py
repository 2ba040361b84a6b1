"""The audit key: an Ed25519 key the database never holds, so whoever controls the database cannot sign.

Where it comes from (first that applies): BACKFLUSH_AUDIT_KEY (the PEM text), BACKFLUSH_AUDIT_KEY_FILE
(a PEM file), or — for an embedded SQLite database only, i.e. development and demos — a file beside the
database (`backflush.db` → `backflush.audit-key.pem`), generated on first use. A public key alone (PEM)
verifies checkpoints and anchors without being able to sign them: give auditors that.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url

from kernel.settings import Settings

log = logging.getLogger("kernel.audit")


class AuditKeyError(Exception):
    """The configured audit key is missing, unreadable or cannot sign."""


@dataclass(frozen=True)
class AuditKey:
    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None

    @property
    def key_id(self) -> str:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: str) -> str:
        if self.private is None:
            raise AuditKeyError("this audit key is a public key: it verifies, it cannot sign")
        return base64.urlsafe_b64encode(self.private.sign(message.encode())).decode().rstrip("=")

    def verifies(self, message: str, signature: str) -> bool:
        try:
            self.public.verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), message.encode())
        except (InvalidSignature, ValueError):
            return False
        return True

    def public_pem(self) -> str:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def parse_key(pem: str | bytes) -> AuditKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        if b"PUBLIC KEY" in data:
            public = serialization.load_pem_public_key(data)
            private = None
        else:
            private = serialization.load_pem_private_key(data, password=None)
            public = private.public_key()
    except (ValueError, TypeError) as error:
        raise AuditKeyError(f"the audit key is not a readable PEM key: {error}") from None
    if not isinstance(public, Ed25519PublicKey) or not (private is None or isinstance(private, Ed25519PrivateKey)):
        raise AuditKeyError("the audit key must be an Ed25519 key")
    return AuditKey(public=public, private=private)


def read_key_file(path: str | Path) -> AuditKey:
    try:
        return parse_key(Path(path).read_bytes())
    except OSError as error:
        raise AuditKeyError(f"cannot read the audit key file {path}: {error.strerror}") from None


def generate_key_file(path: str | Path) -> AuditKey:
    """A new private key in `path`, readable by its owner only; an existing file is never overwritten."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return AuditKey(public=private.public_key(), private=private)


def embedded_key_path(database_url: str) -> Path | None:
    """Where the dev/demo key lives beside an SQLite file; None for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    return database.with_name(f"{database.stem}.audit-key.pem")


def audit_key_from(settings: Settings) -> AuditKey | None:
    if settings.audit_key:
        return parse_key(settings.audit_key)
    if settings.audit_key_file:
        return read_key_file(settings.audit_key_file)
    path = embedded_key_path(settings.database_url)
    if path is None:
        log.warning("no audit key (BACKFLUSH_AUDIT_KEY_FILE): the audit trail is hash-chained but not "
                    "checkpointed, so tail truncation and re-chaining go undetected")
        return None
    if path.exists():
        return read_key_file(path)
    try:
        return generate_key_file(path)
    except FileExistsError:  # another process generated it a moment ago
        return read_key_file(path)
