"""Housekeeping of the authorization server: what can no longer be used, or no longer counts, goes.

Run `backflush purge-expired` on a schedule (a cron job or systemd timer, e.g. hourly). A refresh
token is kept while any token of its family still lives, so a replayed spent token is still caught.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth import sign_in
from auth.principal import SYSTEM, Principal
from auth.signature_attempts import LOCKOUT_WINDOW
from kernel import audit
from kernel.database import rows_changed
from models import AuthorizationCode, RefreshToken, SignatureFailure


def purge_expired(session: Session, *, now: datetime, actor: Principal = SYSTEM) -> dict[str, int]:
    """Delete and audit the counts; the caller commits."""
    dead_families = select(col(RefreshToken.family_id)).group_by(col(RefreshToken.family_id)).having(
        func.max(col(RefreshToken.expires_at)) <= now)
    counts = {
        "authorization_codes": rows_changed(
            session, delete(AuthorizationCode).where(col(AuthorizationCode.expires_at) <= now)),
        "refresh_tokens": rows_changed(
            session, delete(RefreshToken).where(col(RefreshToken.family_id).in_(dead_families))),
        "sign_in_failures": sign_in.purge_failures(session, now=now),
        "signature_failures": rows_changed(
            session, delete(SignatureFailure).where(col(SignatureFailure.at) < now - LOCKOUT_WINDOW)),
    }
    audit.record(session, actor=actor.subject, action="identity.purged", entity_type="authorization_server",
                 entity_id="expired", after=counts)
    return counts
