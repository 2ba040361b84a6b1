"""Deviations (SPEC §7): one open per work order and reason code; repeats attach to it."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.principal import Principal
from backflush import audit
from models import Deviation


def open_or_attach(session: Session, principal: Principal, *, site_id: int, work_order_id: int | None,
                   reason_code: str, category: str, severity: str) -> Deviation:
    existing = session.scalar(select(Deviation).where(
        Deviation.work_order_id == work_order_id, Deviation.reason_code == reason_code,
        Deviation.status != "CLOSED").with_for_update())
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
