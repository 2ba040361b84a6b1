"""Change control for governed records (BOMs, UOM conversions, rule sets): SPEC §2.

DRAFT → APPROVED (with an e-signature) → ACTIVE from `effective_from` → SUPERSEDED when a newer
version takes effect. Approved records are never edited; a change is a new version.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from auth.principal import Principal
from backflush.governance.signatures import SignatureRequest, sign
from kernel import audit
from kernel.errors import DomainError
from models.types import utcnow

LIVE = frozenset({"APPROVED", "ACTIVE"})


def require_draft(record, what: str) -> None:
    if record.status != "DRAFT":
        raise DomainError("RECORD_IMMUTABLE", f"{what} is {record.status}; approved records are never edited, "
                          "create a new version instead", ["input", "id"])


MASTER_DATA_APPROVERS = ("ENGINEER", "QA")


def approve(
    session: Session, principal: Principal, *, record, record_type: str, content: dict,
    signature: SignatureRequest | None, effective_from: datetime | None, family: list,
    approver_roles: tuple[str, ...] = MASTER_DATA_APPROVERS,
) -> None:
    """Sign and approve `record`, then settle which version of its family is in force."""
    require_draft(record, record_type)
    if not principal.has_any_role(*approver_roles):
        raise DomainError("ROLE_REQUIRED", f"{record_type} approvals are signed by {' or '.join(approver_roles)}",
                          ["input", "signature"])
    if signature is None:
        raise DomainError("SIGNATURE_REQUIRED", "approval needs an e-signature", ["input", "signature"])
    now = utcnow()
    sign(session, principal=principal, request=signature, record_type=record_type, record_id=record.id, content=content)
    record.status = "APPROVED"
    record.effective_from = effective_from or now
    audit.record(session, actor=principal.subject, action=f"{record_type}.approved", entity_type=record_type,
                 entity_id=record.id, before={"status": "DRAFT"},
                 after={"status": "APPROVED", "effective_from": record.effective_from})
    settle(session, principal, record_type=record_type, family=family + [record], now=now)


def settle(session: Session, principal: Principal, *, record_type: str, family: list, now: datetime) -> None:
    """The newest version whose time has come is ACTIVE; earlier live ones become SUPERSEDED."""
    due = [r for r in family if r.status in LIVE | {"SUPERSEDED"} and r.effective_from and r.effective_from <= now]
    if not due:
        return
    current = max(due, key=lambda r: (r.effective_from, r.version))
    for row in due:
        wanted = "ACTIVE" if row is current else ("SUPERSEDED" if row.status in LIVE else row.status)
        if row.status != wanted:
            audit.record(session, actor=principal.subject, action=f"{record_type}.{wanted.lower()}",
                         entity_type=record_type, entity_id=row.id, before={"status": row.status},
                         after={"status": wanted})
            row.status = wanted
    session.flush()
