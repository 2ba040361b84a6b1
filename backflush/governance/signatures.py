"""Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.200): one function every flow calls.

The signer is the requesting user, re-authenticated now; the signature names them, states a meaning,
is stamped in UTC and bound to the SHA-256 of the signed record's canonical form.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from auth.principal import Principal
from auth.signature_attempts import LOCKOUT_FAILURES, LOCKOUT_WINDOW, SignatureRejected, check_password, store_failure
from kernel import audit
from kernel.errors import DomainError
from models import ESignature, User
from models.stored import stored_id
from models.types import utcnow

__all__ = ["SignatureRejected", "SignatureRequest", "distinct_signers", "record_failure", "record_hash", "sign"]

EXTERNAL_AUTH_MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True)
class SignatureRequest:
    meaning: str
    password: str | None = None


def record_hash(content: dict) -> str:
    return audit.sha256(audit.canonical(content))


def sign(
    session: Session, *, principal: Principal, request: SignatureRequest,
    record_type: str, record_id: int, content: dict,
) -> ESignature:
    """Re-authenticate the signer and store the signature; raises SIGNATURE_* errors otherwise."""
    if not principal.is_user:
        raise DomainError("SIGNATURE_NOT_ALLOWED", "machine clients cannot sign", ["signature"])
    if not request.meaning or not request.meaning.strip():
        raise DomainError("SIGNATURE_MEANING_REQUIRED", "a signature states its meaning", ["signature", "meaning"])
    _reauthenticate(session, principal, request.password)
    signature = ESignature(
        record_type=record_type, record_id=record_id, record_hash=record_hash(content),
        signer_id=principal.subject, signer_name=principal.name, signer_roles=sorted(principal.roles),
        meaning=request.meaning.strip(), signed_at=utcnow(),
    )
    session.add(signature)
    session.flush()
    audit.record(session, actor=principal.subject, action="esignature.signed", entity_type=record_type,
                 entity_id=record_id, after={"meaning": signature.meaning, "record_hash": signature.record_hash})
    return signature


def _reauthenticate(session: Session, principal: Principal, password: str | None) -> None:
    if principal.issuer is not None:
        _require_recent_external_login(principal)
        return
    user = session.get(User, principal.user_id) if principal.user_id else None
    if user is None or not user.active:
        raise DomainError("SIGNATURE_INVALID", "signer is not an active user", ["signature"])
    check_password(session, user_id=stored_id(user), password_hash=user.password_hash, password=password)


def _require_recent_external_login(principal: Principal) -> None:
    now = utcnow().timestamp()
    if principal.auth_time is None or now - principal.auth_time > EXTERNAL_AUTH_MAX_AGE.total_seconds():
        raise DomainError("SIGNATURE_REAUTH_REQUIRED",
                          "sign in again at your identity provider (within 5 minutes) to sign", ["signature"])


def record_failure(session: Session, *, principal: Principal, rejected: SignatureRejected) -> None:
    """In a transaction of its own, after the command was rolled back; the fifth failure locks signing."""
    failures = store_failure(session, rejected)
    audit.record(session, actor=principal.subject, action="esignature.failed", entity_type="user",
                 entity_id=rejected.user_id, after={"recent_failures": failures})
    if failures == LOCKOUT_FAILURES:
        audit.record(session, actor=principal.subject, action="esignature.locked", entity_type="user",
                     entity_id=rejected.user_id,
                     after={"locked_for_minutes": int(LOCKOUT_WINDOW.total_seconds() // 60)})
    session.commit()


def distinct_signers(signatures: list[ESignature]) -> set[str]:
    return {s.signer_id for s in signatures}
