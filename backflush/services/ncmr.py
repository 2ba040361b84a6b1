"""NCMR (non-conformance material report): opening one on a lot puts it ON_HOLD, and the lot stays
unusable — no backflush draws it, no scan issues it, not even for rework, and no status change frees
it — until QA dispositions the NCMR with an e-signature.

Every status change goes through `lot_disposition.authorize`, the one transition table: opening is the
hold anyone may place; the disposition is the transition out of ON_HOLD that QA decides (RELEASED
"Released", REJECTED "Rejected", or QUARANTINE for re-testing, which an NCMR signs as "Dispositioned").
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.governance import lot_disposition
from backflush.governance.signatures import SignatureRequest, sign
from backflush.quality.gates import open_ncmr_of
from backflush.reads.records import record_in_sites
from backflush.services.arguments import choice_arg, text_arg
from kernel import audit
from kernel.errors import DomainError
from models import Lot, Ncmr
from models.stored import stored_id
from models.types import utcnow

OPEN, DISPOSITIONED = "OPEN", "DISPOSITIONED"
DISPOSITIONS = frozenset({lot_disposition.RELEASED, lot_disposition.REJECTED, lot_disposition.QUARANTINE})
RETEST_MEANING = "Dispositioned"  # ON_HOLD → QUARANTINE needs no signature elsewhere; closing an NCMR always does


def open_ncmr(session: Session, principal: Principal, *, lot_id: int | None, description: str) -> Ncmr:
    lot = _lot(session, principal, lot_id)
    description = text_arg(description, "description", max_length=2000)
    if open_ncmr_of(session, stored_id(lot)) is not None:
        raise DomainError("NCMR_ALREADY_OPEN", f"lot {lot.lot_number} already has an open NCMR", ["input", "lotId"])
    before = lot.status
    if before != lot_disposition.ON_HOLD:
        lot_disposition.authorize(before, lot_disposition.ON_HOLD, principal_kind=principal.kind,
                                  roles=principal.roles, meaning=None)
    ncmr = Ncmr(number=f"pending-{lot.id}-{utcnow().timestamp()}", site_id=lot.site_id, lot_id=stored_id(lot),
                description=description, status_before=before, opened_by=principal.subject)
    session.add(ncmr)
    session.flush()
    ncmr.number = f"NCMR-{ncmr.id:06d}"  # from the row id, so concurrent openings never collide
    lot.status = lot_disposition.ON_HOLD
    audit.record(session, actor=principal.subject, action="ncmr.opened", entity_type="ncmr", entity_id=ncmr.id,
                 after={"number": ncmr.number, "lot": lot.lot_number, "description": description})
    if before != lot.status:
        audit.record(session, actor=principal.subject, action="lot.status_changed", entity_type="lot",
                     entity_id=lot.id, before={"status": before}, after={"status": lot.status}, reason=ncmr.number)
    return ncmr


def disposition_ncmr(session: Session, principal: Principal, *, ncmr_id: int | None, disposition: str, reason: str,
                     signature: SignatureRequest | None) -> Ncmr:
    ncmr = record_in_sites(session, principal, Ncmr, ncmr_id) if ncmr_id else None
    if ncmr is None:
        raise DomainError("NOT_FOUND", "no such NCMR", ["input", "ncmrId"])
    if ncmr.status != OPEN:
        raise DomainError("NCMR_NOT_OPEN", f"{ncmr.number} is already {ncmr.status}", ["input", "ncmrId"])
    choice_arg(disposition, "disposition", DISPOSITIONS)
    reason = text_arg(reason, "reason", max_length=500)
    lot = _lot(session, principal, ncmr.lot_id)
    transition = lot_disposition.authorize(lot.status, disposition, principal_kind=principal.kind, roles=principal.roles,
                                           meaning=signature.meaning if signature else None)
    meaning = transition.meaning or RETEST_MEANING
    if lot_disposition.QA not in principal.roles:
        raise DomainError("ROLE_REQUIRED", "an NCMR is dispositioned by QA", ["input", "signature"])
    if signature is None:
        raise DomainError("SIGNATURE_REQUIRED", f"dispositioning an NCMR needs QA's e-signature meaning \"{meaning}\"",
                          ["input", "signature"])
    if signature.meaning.strip() != meaning:
        raise DomainError("SIGNATURE_MEANING_MISMATCH", f"this disposition is signed with the meaning \"{meaning}\"",
                          ["input", "signature", "meaning"])
    sign(session, principal=principal, request=signature, record_type="ncmr", record_id=ncmr.id,
         content={"number": ncmr.number, "lot_id": lot.id, "lot_number": lot.lot_number, "from": lot.status,
                  "to": disposition, "reason": reason})
    before = lot.status
    lot.status = disposition
    ncmr.status, ncmr.disposition = DISPOSITIONED, disposition
    ncmr.dispositioned_by, ncmr.dispositioned_at = principal.subject, utcnow()
    audit.record(session, actor=principal.subject, action="ncmr.dispositioned", entity_type="ncmr", entity_id=ncmr.id,
                 before={"status": OPEN}, after={"status": DISPOSITIONED, "disposition": disposition}, reason=reason)
    audit.record(session, actor=principal.subject, action="lot.status_changed", entity_type="lot", entity_id=lot.id,
                 before={"status": before}, after={"status": disposition}, reason=f"{ncmr.number}: {reason}")
    return ncmr


def _lot(session: Session, principal: Principal, lot_id: int | None) -> Lot:
    lot = session.scalar(select(Lot).where(col(Lot.id) == lot_id).with_for_update()) if lot_id else None
    if lot is None or record_in_sites(session, principal, Lot, stored_id(lot)) is None:
        raise DomainError("NOT_FOUND", "no such lot", ["input", "lotId"])
    return lot
