"""Housekeeping of the authorization server: what can no longer be used, or no longer counts, goes.

Run `backflush purge-expired` on a schedule (a cron job or systemd timer, e.g. hourly). A refresh
token is kept while any token of its family still lives, so a replayed spent token is still caught.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from auth import sign_in
from auth.principal import SYSTEM, Principal
from auth.signature_attempts import LOCKOUT_WINDOW
from kernel import audit
from models import AuthorizationCode, RefreshToken, SignatureFailure


def purge_expired(session: Session, *, now: datetime, actor: Principal = SYSTEM) -> dict[str, int]:
    """Delete and audit the counts; the caller commits."""
    dead_families = select(RefreshToken.family_id).group_by(RefreshToken.family_id).having(
        func.max(RefreshToken.expires_at) <= now)
    counts = {
        "authorization_codes": session.execute(
            delete(AuthorizationCode).where(AuthorizationCode.expires_at <= now)).rowcount,
        "refresh_tokens": session.execute(
            delete(RefreshToken).where(RefreshToken.family_id.in_(dead_families))).rowcount,
        "sign_in_failures": sign_in.purge_failures(session, now=now),
        "signature_failures": session.execute(
            delete(SignatureFailure).where(SignatureFailure.at < now - LOCKOUT_WINDOW)).rowcount,
    }
    audit.record(session, actor=actor.subject, action="identity.purged", entity_type="authorization_server",
                 entity_id="expired", after=counts)
    return counts
