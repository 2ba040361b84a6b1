"""What the evidence routes serve, each read in one session and only for an order the principal sees."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from auth.principal import Principal
from backflush.insight.control_limits import ControlWindow
from backflush.insight.evidence import evidence_pack
from backflush.insight.evidence_document import canonical_bytes, document_sha256, evidence_document
from backflush.insight.evidence_page import evidence_page
from backflush.insight.pictures import order_control_charts, order_genealogy_svg
from backflush.reads import records as reads
from models import WorkOrder
from models.types import utcnow


@dataclass(frozen=True)
class Download:
    body: bytes
    sha256: str


def evidence_json(session: Session, principal: Principal, work_order_id: int | None) -> Download | None:
    pack = evidence_pack(session, principal, work_order_id, at=utcnow())
    if pack is None:
        return None
    document = evidence_document(pack)
    return Download(canonical_bytes(document), document_sha256(document))


def evidence_html(session: Session, principal: Principal, work_order_id: int | None, *, json_url: str,
                  window: ControlWindow) -> str | None:
    pack = evidence_pack(session, principal, work_order_id, at=utcnow())
    if pack is None:
        return None
    document = evidence_document(pack)
    return evidence_page(document, sha256=document_sha256(document), json_url=json_url,
                         genealogy_svg=order_genealogy_svg(session, pack.work_order),
                         control_charts=order_control_charts(session, pack.work_order, window))


def genealogy_picture(session: Session, principal: Principal, work_order_id: int | None) -> str | None:
    order = _visible(session, principal, work_order_id)
    return None if order is None else order_genealogy_svg(session, order)


def control_chart_picture(session: Session, principal: Principal, work_order_id: int | None, item_code: str, *,
                          window: ControlWindow) -> str | None:
    order = _visible(session, principal, work_order_id)
    return None if order is None else order_control_charts(session, order, window).get(item_code)


def _visible(session: Session, principal: Principal, work_order_id: int | None) -> WorkOrder | None:
    return reads.record_in_sites(session, principal, WorkOrder, work_order_id) if work_order_id else None
