"""Identity administration: people, machine clients and signing keys. Each call is audited; the caller commits."""
from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from auth import keys, sign_in
from auth.config import AuthConfig
from auth.passwords import hash_password
from auth.principal import SYSTEM, Principal
from auth.scopes import ROLES, SCOPES, USER_ONLY_SCOPES
from kernel import audit
from kernel.database import rows_changed
from kernel.errors import DomainError
from models import AuthorizationCode, OAuthClient, RefreshToken, SigningKey, User

MIN_PASSWORD_LENGTH = 12
GRANT_TYPES = frozenset({"client_credentials", "authorization_code", "refresh_token"})


def create_user(
    session: Session, *, username: str, display_name: str, password: str,
    roles: list[str], sites: list[str], actor: Principal = SYSTEM,
) -> User:
    _require_unknown(session, User, col(User.username), username, "USERNAME_TAKEN")
    _require_known(roles, ROLES, "UNKNOWN_ROLE")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("PASSWORD_TOO_SHORT", f"passwords have at least {MIN_PASSWORD_LENGTH} characters",
                          ["password"])
    if not display_name.strip():
        raise DomainError("DISPLAY_NAME_REQUIRED", "signatures print the display name", ["displayName"])
    user = User(username=username, display_name=display_name.strip(), password_hash=hash_password(password),
                roles=sorted(set(roles)), sites=sorted(set(sites)))
    session.add(user)
    session.flush()
    audit.record(session, actor=actor.subject, action="user.created", entity_type="user", entity_id=user.id,
                 after={"username": username, "display_name": user.display_name, "roles": user.roles,
                        "sites": user.sites})
    return user


def create_client(
    session: Session, *, client_id: str, name: str, scopes: list[str], sites: list[str],
    grant_types: list[str], redirect_uris: list[str] | None = None, public: bool = False,
    actor: Principal = SYSTEM,
) -> str | None:
    """Register a client; returns its secret in plain text, this once (only a hash is kept).

    A public client (a browser or mobile app, which cannot keep a secret) gets none and must use PKCE.
    """
    _validate_client(session, client_id=client_id, scopes=scopes, grant_types=grant_types,
                     redirect_uris=redirect_uris or [], public=public)
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=client_id, name=name, client_secret_hash=hash_password(secret) if secret else None,
        scopes=sorted(set(scopes)), sites=sorted(set(sites)), grant_types=sorted(set(grant_types)),
        redirect_uris=list(redirect_uris or []),
        token_endpoint_auth_method="none" if public else "client_secret_basic",
    )
    session.add(client)
    session.flush()
    audit.record(session, actor=actor.subject, action="oauth_client.created", entity_type="oauth_client",
                 entity_id=client_id, after={"name": name, "scopes": client.scopes, "sites": client.sites,
                                             "grant_types": client.grant_types, "public": public})
    return secret


def _validate_client(session: Session, *, client_id: str, scopes: list[str], grant_types: list[str],
                     redirect_uris: list[str], public: bool) -> None:
    _require_unknown(session, OAuthClient, col(OAuthClient.client_id), client_id, "CLIENT_ID_TAKEN")
    _require_known(scopes, SCOPES, "UNKNOWN_SCOPE")
    _require_known(grant_types, GRANT_TYPES, "UNKNOWN_GRANT_TYPE")
    if USER_ONLY_SCOPES & set(scopes) and "client_credentials" in grant_types:
        # An app acting for a signed-in person may pass the person's right to sign; a machine never signs.
        raise DomainError("SCOPE_NOT_FOR_CLIENTS", "machine clients can never sign", ["scopes"])
    if public and "client_credentials" in grant_types:
        raise DomainError("PUBLIC_CLIENT_CREDENTIALS", "a client without a secret cannot use client_credentials",
                          ["grantTypes"])
    if "authorization_code" in grant_types and not redirect_uris:
        raise DomainError("REDIRECT_URI_REQUIRED", "authorization_code needs a registered redirect URI",
                          ["redirectUris"])


def rotate_keys(session: Session, config: AuthConfig, *, alg: str | None = None,
                actor: Principal = SYSTEM) -> SigningKey:
    """A new signing key; the previous one stays published until the tokens it signed have expired."""
    row = keys.rotate(session, config, alg=alg)
    audit.record(session, actor=actor.subject, action="signing_key.rotated", entity_type="signing_key",
                 entity_id=row.kid, after={"alg": row.private_jwk["alg"]})
    return row


# Changes of access are recorded with who, when, before, after and why (EU GMP Annex 11 §12.3).

def change_access(session: Session, *, username: str, reason: str, roles: list[str] | None = None,
                  sites: list[str] | None = None, actor: Principal = SYSTEM) -> User:
    """New roles and/or sites; tokens already issued are narrowed to them on their next use."""
    user = _existing_user(session, username)
    _require_known(roles or [], ROLES, "UNKNOWN_ROLE")
    before = {"roles": list(user.roles), "sites": list(user.sites)}
    user.roles = sorted(set(roles)) if roles is not None else user.roles
    user.sites = sorted(set(sites)) if sites is not None else user.sites
    audit.record(session, actor=actor.subject, action="user.access_changed", entity_type="user", entity_id=user.id,
                 before=before, after={"roles": user.roles, "sites": user.sites}, reason=_reason(reason))
    return user


def deactivate_user(session: Session, *, username: str, reason: str, actor: Principal = SYSTEM) -> User:
    """No more sign-ins; the user's refresh tokens and unused codes die now, access tokens on their next use."""
    user = _existing_user(session, username)
    if not user.active:
        raise DomainError("USER_ALREADY_INACTIVE", f"{username!r} is already deactivated", ["username"])
    user.active = False
    revoked = rows_changed(session, update(RefreshToken).where(
        col(RefreshToken.user_id) == user.id, col(RefreshToken.revoked).is_(False)).values(revoked=True))
    session.execute(update(AuthorizationCode).where(
        col(AuthorizationCode.user_id) == user.id, col(AuthorizationCode.used).is_(False)).values(used=True))
    audit.record(session, actor=actor.subject, action="user.deactivated", entity_type="user", entity_id=user.id,
                 before={"active": True}, after={"active": False, "refresh_tokens_revoked": revoked},
                 reason=_reason(reason))
    return user


def reactivate_user(session: Session, *, username: str, reason: str, actor: Principal = SYSTEM) -> User:
    user = _existing_user(session, username)
    if user.active:
        raise DomainError("USER_ALREADY_ACTIVE", f"{username!r} is active", ["username"])
    user.active = True
    audit.record(session, actor=actor.subject, action="user.reactivated", entity_type="user", entity_id=user.id,
                 before={"active": False}, after={"active": True}, reason=_reason(reason))
    return user


def unlock_user(session: Session, *, username: str, reason: str, actor: Principal = SYSTEM) -> User:
    """Lift the lock that repeated wrong passwords at the login form put on the account."""
    user = _existing_user(session, username)
    reason = _reason(reason)
    lock = sign_in.unlock(session, user)
    if lock is None:
        raise DomainError("USER_NOT_LOCKED", f"{username!r} is not locked", ["username"])
    audit.record(session, actor=actor.subject, action="user.unlocked", entity_type="user", entity_id=user.id,
                 before={"locked_at": lock.locked_at}, after={"locked_at": None}, reason=reason)
    return user


def _existing_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(col(User.username) == username).with_for_update()).first()
    if user is None:
        raise DomainError("USER_NOT_FOUND", f"no user {username!r}", ["username"])
    return user


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise DomainError("REASON_REQUIRED", "say why access changes (Annex 11 §12.3)", ["reason"])
    return reason.strip()


def encrypt_keys(session: Session, config: AuthConfig, *, actor: Principal = SYSTEM) -> list[str]:
    """Seal plain-text signing keys (and reseal under a new encryption key); the kids changed."""
    rows = keys.seal_stored_keys(session, config)
    for row in rows:
        audit.record(session, actor=actor.subject, action="signing_key.encrypted", entity_type="signing_key",
                     entity_id=row.kid, after={"sealed": True})
    return [row.kid for row in rows]


def _require_unknown(session: Session, model, column, value: str, code: str) -> None:
    if session.scalars(select(model).where(column == value)).first() is not None:
        raise DomainError(code, f"{value!r} already exists", [column.key])


def _require_known(values: list[str], vocabulary: frozenset[str], code: str) -> None:
    unknown = sorted(set(values) - vocabulary)
    if unknown:
        raise DomainError(code, f"unknown: {', '.join(unknown)} (known: {', '.join(sorted(vocabulary))})")
