"""Site-scoped reads for the API: another site's record reads as absent."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.principal import Principal
from backflush.paging import Page, keyset_page
from models import AuditRecord, Item, LedgerEntry, Lot, Site, Trigger, WorkOrder

SITE_SCOPED = {"Lot", "WorkOrder", "Location", "Trigger", "Deviation", "Reversal", "LedgerEntry"}


def visible_site_ids(session: Session, principal: Principal) -> list[int] | None:
    """None means every site."""
    if "*" in principal.sites:
        return None
    return list(session.scalars(select(Site.id).where(Site.code.in_(principal.sites))))


def _scoped(session: Session, principal: Principal, statement, model):
    site_ids = visible_site_ids(session, principal)
    return statement if site_ids is None else statement.where(model.site_id.in_(site_ids))


def work_order_by_number(session: Session, principal: Principal, number: str) -> WorkOrder | None:
    return session.scalar(_scoped(session, principal, select(WorkOrder).where(WorkOrder.number == number), WorkOrder))


def work_orders_page(session: Session, principal: Principal, *, status: str | None, first: int | None,
                     after_id: int | None) -> Page:
    statement = _scoped(session, principal, select(WorkOrder), WorkOrder)
    if status:
        statement = statement.where(WorkOrder.status == status)
    return keyset_page(session, statement, WorkOrder, first=first, after_id=after_id)


def lot_by_number(session: Session, principal: Principal, *, item_code: str, lot_number: str) -> Lot | None:
    statement = select(Lot).join(Item, Item.id == Lot.item_id).where(Item.code == item_code, Lot.lot_number == lot_number)
    return session.scalar(_scoped(session, principal, statement, Lot))


def item_by_code(session: Session, code: str) -> Item | None:
    return session.scalar(select(Item).where(Item.code == code))


def record_in_sites(session: Session, principal: Principal, model, pk: int):
    """A row by id, or None when it does not exist or lies outside the principal's sites."""
    row = session.get(model, pk)
    if row is None or not hasattr(row, "site_id") or row.site_id is None:
        return row
    site = session.get(Site, row.site_id)
    return row if principal.sees_site(site.code) else None


def audit_records(session: Session, *, entity: tuple[str, int] | None, first: int | None) -> list[AuditRecord]:
    """Newest first; `entity` is (entity_type, id) as the audit rows name them."""
    statement = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(max(1, min(first or 100, 1000)))
    if entity is not None:
        statement = statement.where(AuditRecord.entity_type == entity[0], AuditRecord.entity_id == str(entity[1]))
    return list(session.scalars(statement))


def items_by_codes(session: Session, codes: list[str]) -> dict[str, Item]:
    return {i.code: i for i in session.scalars(select(Item).where(Item.code.in_(codes)))}


ISSUE_KINDS = ("BACKFLUSH_ISSUE", "SCAN_ISSUE", "FORWARD_ISSUE")


def triggers_page(session: Session, *, work_order_id: int, first: int | None, after_id: int | None) -> Page:
    statement = select(Trigger).where(Trigger.work_order_id == work_order_id)
    return keyset_page(session, statement, Trigger, first=first, after_id=after_id)


def postings_page(session: Session, *, work_order_id: int, first: int | None, after_id: int | None) -> Page:
    statement = select(LedgerEntry).where(LedgerEntry.work_order_id == work_order_id, LedgerEntry.kind.in_(ISSUE_KINDS))
    return keyset_page(session, statement, LedgerEntry, first=first, after_id=after_id)


TRIGGER_OUTCOME_ACTIONS = ("trigger.posted", "trigger.blocked")


def last_audit_seq(session: Session) -> int:
    return session.scalar(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()).limit(1)) or 0


def trigger_outcomes_after(session: Session, principal: Principal, *, after_seq: int,
                           work_order_id: int | None) -> tuple[int, list[Trigger]]:
    """Triggers whose outcome was decided after audit row `after_seq`, in decision order.

    Read from the audit trail, so every server process sees every outcome, retries included.
    """
    rows = list(session.execute(select(AuditRecord.seq, AuditRecord.entity_id).where(
        AuditRecord.seq > after_seq, AuditRecord.action.in_(TRIGGER_OUTCOME_ACTIONS)).order_by(AuditRecord.seq).limit(500)))
    if not rows:
        return after_seq, []
    triggers = {t.id: t for t in session.scalars(select(Trigger).where(Trigger.id.in_({int(e) for _, e in rows})))}
    site_ids = visible_site_ids(session, principal)
    wanted = [triggers[int(e)] for _, e in rows if int(e) in triggers]
    wanted = [t for t in wanted if (site_ids is None or t.site_id in site_ids)
              and (work_order_id is None or t.work_order_id == work_order_id)]
    return rows[-1][0], wanted
