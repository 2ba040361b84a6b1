""""No label approval, no packout": a work order's label versions, approved by QA's e-signature.

A PACK_CONFIRMED or HANDLING_UNIT_CLOSED trigger blocks with LABEL_NOT_APPROVED unless the order has
an APPROVED label version; `approve_label_version` is the only way a version becomes APPROVED and it
takes a QA user's e-signature meaning "Approved" (the demo plant's label is approved by the system
account, audited as such, like its BOM).
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.governance.signatures import SignatureRequest, sign
from backflush.reads.records import record_in_sites
from backflush.services.arguments import text_arg
from backflush.services.work_orders import require_open, work_order_in_sites
from kernel import audit
from kernel.errors import DomainError
from models import LabelVersion
from models.stored import stored_id
from models.types import utcnow

APPROVED_MEANING = "Approved"


def create_label_version(session: Session, principal: Principal, *, work_order_id: int | None,
                         content: str) -> LabelVersion:
    work_order = work_order_in_sites(session, principal, work_order_id, lock=True)
    require_open(work_order)
    content = text_arg(content, "content", max_length=4000)
    latest = session.scalar(select(func.max(LabelVersion.version)).where(col(LabelVersion.work_order_id) == work_order.id))
    label = LabelVersion(site_id=work_order.site_id, work_order_id=stored_id(work_order), version=(latest or 0) + 1,
                         content=content, created_by=principal.subject)
    session.add(label)
    session.flush()
    audit.record(session, actor=principal.subject, action="label.drafted", entity_type="label_version",
                 entity_id=label.id, after={"work_order": work_order.number, "version": label.version,
                                            "content": content})
    return label


def approve_label_version(session: Session, principal: Principal, *, label_version_id: int | None,
                          signature: SignatureRequest | None) -> LabelVersion:
    label = record_in_sites(session, principal, LabelVersion, label_version_id) if label_version_id else None
    if label is None:
        raise DomainError("NOT_FOUND", "no such label version", ["input", "labelVersionId"])
    if label.status != "DRAFT":
        raise DomainError("LABEL_NOT_DRAFT", f"label version {label.version} is already {label.status}",
                          ["input", "labelVersionId"])
    if "QA" not in principal.roles:
        raise DomainError("ROLE_REQUIRED", "a label is approved by QA", ["input", "signature"])
    if signature is None:
        raise DomainError("SIGNATURE_REQUIRED", f"approving a label needs QA's e-signature meaning "
                          f"\"{APPROVED_MEANING}\"", ["input", "signature"])
    if signature.meaning.strip() != APPROVED_MEANING:
        raise DomainError("SIGNATURE_MEANING_MISMATCH", f"a label is signed with the meaning \"{APPROVED_MEANING}\"",
                          ["input", "signature", "meaning"])
    sign(session, principal=principal, request=signature, record_type="label_version", record_id=label.id,
         content={"id": label.id, "work_order_id": label.work_order_id, "version": label.version,
                  "content": label.content})
    label.status, label.approved_at = "APPROVED", utcnow()
    audit.record(session, actor=principal.subject, action="label.approved", entity_type="label_version",
                 entity_id=label.id, before={"status": "DRAFT"}, after={"status": "APPROVED"})
    return label
