"""The quality gates the services consult before using a lot or packing out: read-only checks.

The records behind them are kept by backflush/services/labels.py and backflush/services/ncmr.py.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from backflush.core.plan import BlockReason
from kernel.errors import DomainError
from models import LabelVersion, Lot, Ncmr, WorkOrder
from models.stored import stored_id

PACKOUT_KINDS = frozenset({"PACK_CONFIRMED", "HANDLING_UNIT_CLOSED"})
OPEN = "OPEN"


def label_block_reason(session: Session, work_order: WorkOrder, trigger_kind: str) -> BlockReason | None:
    """LABEL_NOT_APPROVED for a packout trigger of an order without an approved label version."""
    if trigger_kind not in PACKOUT_KINDS:
        return None
    approved = session.scalar(select(col(LabelVersion.id)).where(col(LabelVersion.work_order_id) == work_order.id,
                                                                 col(LabelVersion.status) == "APPROVED").limit(1))
    if approved is not None:
        return None
    return BlockReason(code="LABEL_NOT_APPROVED",
                       message=f"no label approval, no packout: work order {work_order.number} has no label version "
                               "approved by QA's e-signature")


def open_ncmr_of(session: Session, lot_id: int) -> Ncmr | None:
    return session.scalar(select(Ncmr).where(col(Ncmr.lot_id) == lot_id, col(Ncmr.status) == OPEN).limit(1))


def require_no_open_ncmr(session: Session, lot: Lot, field_name: str = "lotId") -> None:
    """Refuse to use or re-status a lot an open NCMR holds."""
    ncmr = open_ncmr_of(session, stored_id(lot))
    if ncmr is not None:
        raise DomainError("LOT_UNDER_NCMR", f"lot {lot.lot_number} is held by {ncmr.number} until QA dispositions it",
                          ["input", field_name])
