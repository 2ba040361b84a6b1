"""Deviations (SPEC §7): one open per work order and reason code; repeats attach to it."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.governance.signatures import sign
from backflush.reads.records import record_in_sites, visible_site_ids
from backflush.services.arguments import text_arg
from kernel import audit
from kernel.errors import DomainError, NotFound
from models import Deviation
from models.types import utcnow


def open_or_attach(session: Session, principal: Principal, *, site_id: int, work_order_id: int | None,
                   reason_code: str, category: str, severity: str) -> Deviation:
    existing = session.scalar(select(Deviation).where(
        col(Deviation.work_order_id) == work_order_id, col(Deviation.reason_code) == reason_code,
        col(Deviation.status) != "CLOSED").with_for_update())
    if existing is not None:
        existing.occurrences += 1
        audit.record(session, actor=principal.subject, action="deviation.repeated", entity_type="deviation",
                     entity_id=existing.id, after={"occurrences": existing.occurrences})
        return existing
    deviation = Deviation(number=f"pending-{uuid.uuid4().hex}", site_id=site_id, category=category, severity=severity,
                          work_order_id=work_order_id, reason_code=reason_code)
    session.add(deviation)
    session.flush()
    deviation.number = f"DEV-{deviation.id:06d}"  # from the row id, so concurrent openings never collide
    audit.record(session, actor=principal.subject, action="deviation.opened", entity_type="deviation",
                 entity_id=deviation.id, after={"number": deviation.number, "category": category,
                                                "severity": severity, "reason_code": reason_code})
    return deviation


def close_deviation(session: Session, principal: Principal, *, deviation_id: int | None, root_cause: str,
                    capa_reference: str | None, signature) -> Deviation:
    """Closing needs QA's e-signature and a root cause (SPEC §7)."""
    deviation = record_in_sites(session, principal, Deviation, deviation_id) if deviation_id else None
    if deviation is None:
        raise NotFound("deviation", ["input", "id"])
    if deviation.status == "CLOSED":
        raise DomainError("DEVIATION_CLOSED", f"{deviation.number} is already closed", ["input", "id"])
    if not principal.has_any_role("QA"):
        raise DomainError("ROLE_REQUIRED", "deviations are closed by QA", ["input", "signature"])
    root_cause = text_arg(root_cause, "rootCause", max_length=4000, multiline=True)
    if signature is None:
        raise DomainError("SIGNATURE_REQUIRED", "closing a deviation needs an e-signature", ["input", "signature"])
    sign(session, principal=principal, request=signature, record_type="deviation", record_id=deviation.id,
         content={"number": deviation.number, "root_cause": root_cause, "capa_reference": capa_reference,
                  "action": "close"})
    before = {"status": deviation.status}
    deviation.status, deviation.closed_at = "CLOSED", utcnow()
    deviation.root_cause, deviation.capa_reference = root_cause, capa_reference
    audit.record(session, actor=principal.subject, action="deviation.closed", entity_type="deviation",
                 entity_id=deviation.id, before=before,
                 after={"status": "CLOSED", "root_cause": root_cause, "capa_reference": capa_reference})
    return deviation


def deviations(session: Session, principal: Principal, *, status: str | None) -> list[Deviation]:
    query = select(Deviation).order_by(col(Deviation.id))
    site_ids = visible_site_ids(session, principal)
    if site_ids is not None:
        query = query.where(col(Deviation.site_id).in_(site_ids))
    if status:
        query = query.where(col(Deviation.status) == status)
    return list(session.scalars(query))
