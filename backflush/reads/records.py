"""Site-scoped reads for the API: another site's record reads as absent."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.reads.paging import Page, keyset_page
from kernel import audit
from kernel.audit.chain import chain_head
from kernel.database import referenced_row
from models import AuditRecord, Item, LedgerEntry, Lot, Site, Trigger, WorkOrder

SITE_SCOPED = {"Lot", "WorkOrder", "Location", "Trigger", "Deviation", "Reversal", "LedgerEntry"}


def visible_site_ids(session: Session, principal: Principal) -> list[int] | None:
    """None means every site."""
    if "*" in principal.sites:
        return None
    return list(session.scalars(select(col(Site.id)).where(col(Site.code).in_(principal.sites))))


def _scoped(session: Session, principal: Principal, statement, model):
    site_ids = visible_site_ids(session, principal)
    return statement if site_ids is None else statement.where(model.site_id.in_(site_ids))


def work_order_by_number(session: Session, principal: Principal, number: str) -> WorkOrder | None:
    statement = select(WorkOrder).where(col(WorkOrder.number) == number)
    return session.scalar(_scoped(session, principal, statement, WorkOrder))


def work_orders_page(session: Session, principal: Principal, *, status: str | None, first: int | None,
                     after_id: int | None) -> Page:
    statement = _scoped(session, principal, select(WorkOrder), WorkOrder)
    if status:
        statement = statement.where(col(WorkOrder.status) == status)
    return keyset_page(session, statement, WorkOrder, first=first, after_id=after_id)


def lot_by_number(session: Session, principal: Principal, *, item_code: str, lot_number: str) -> Lot | None:
    statement = (select(Lot).join(Item, col(Item.id) == col(Lot.item_id))
                 .where(col(Item.code) == item_code, col(Lot.lot_number) == lot_number))
    return session.scalar(_scoped(session, principal, statement, Lot))


def item_by_code(session: Session, code: str) -> Item | None:
    return session.scalar(select(Item).where(col(Item.code) == code))


def record_in_sites(session: Session, principal: Principal, model, pk: int):
    """A row by id, or None when it does not exist or lies outside the principal's sites."""
    row = session.get(model, pk)
    if row is None or not hasattr(row, "site_id") or row.site_id is None:
        return row
    site = referenced_row(session, Site, row.site_id)
    return row if principal.sees_site(site.code) else None


def may_read_global_audit(principal: Principal) -> bool:
    """The global chain (users, clients, keys, master data) is for administrators."""
    return "ADMIN" in principal.roles


def _readable_chains(session: Session, principal: Principal):
    site_ids = visible_site_ids(session, principal)
    sites = col(AuditRecord.site_id).is_not(None) if site_ids is None else col(AuditRecord.site_id).in_(site_ids)
    return or_(sites, col(AuditRecord.site_id).is_(None)) if may_read_global_audit(principal) else sites


def audit_records(session: Session, principal: Principal, *, entity: tuple[str, int] | None,
                  first: int | None) -> list[tuple[AuditRecord, str | None]]:
    """Newest first, with each row's site code, from the chains the principal may read: the chains of its
    sites, and the global chain for administrators. `entity` is (entity_type, id) as the rows name them."""
    statement = (select(AuditRecord, col(Site.code)).outerjoin(Site, col(Site.id) == col(AuditRecord.site_id))
                 .where(_readable_chains(session, principal))
                 .order_by(col(AuditRecord.seq).desc()).limit(max(1, min(first or 100, 1000))))
    if entity is not None:
        statement = statement.where(col(AuditRecord.entity_type) == entity[0],
                                    col(AuditRecord.entity_id) == str(entity[1]))
    return [(row, code) for row, code in session.execute(statement)]


def audit_verification(session: Session, principal: Principal) -> audit.Verification:
    """The whole trail is verified (ok, counts); the breaks listed are those in chains the principal may read."""
    result = audit.verify(session)
    site_ids = visible_site_ids(session, principal)
    readable = [b for b in result.breaks if (may_read_global_audit(principal) if b.site_id is None
                                             else site_ids is None or b.site_id in site_ids)]
    return replace(result, breaks=tuple(readable))


def items_by_codes(session: Session, codes: list[str]) -> dict[str, Item]:
    return {i.code: i for i in session.scalars(select(Item).where(col(Item.code).in_(codes)))}


ISSUE_KINDS = ("BACKFLUSH_ISSUE", "SCAN_ISSUE", "FORWARD_ISSUE")


def triggers_page(session: Session, *, work_order_id: int, first: int | None, after_id: int | None) -> Page:
    statement = select(Trigger).where(col(Trigger.work_order_id) == work_order_id)
    return keyset_page(session, statement, Trigger, first=first, after_id=after_id)


def postings_page(session: Session, *, work_order_id: int, first: int | None, after_id: int | None) -> Page:
    statement = select(LedgerEntry).where(col(LedgerEntry.work_order_id) == work_order_id,
                                          col(LedgerEntry.kind).in_(ISSUE_KINDS))
    return keyset_page(session, statement, LedgerEntry, first=first, after_id=after_id)


TRIGGER_OUTCOME_ACTIONS = ("trigger.posted", "trigger.blocked")


AuditPosition = dict[int | None, int]  # a chain (its site id; None: the global chain) → the position read up to


def audit_position(session: Session) -> AuditPosition:
    """Where every site's chain ends now: a subscription reads on from here."""
    return {site_id: chain_head(session, site_id).chain_seq for site_id in session.scalars(select(col(Site.id)))}


def trigger_outcomes_after(session: Session, principal: Principal, *, after: AuditPosition,
                           work_order_id: int | None) -> tuple[AuditPosition, list[Trigger]]:
    """Triggers whose outcome was decided after `after`, in decision order, and the position read up to.

    Read from the audit trail, so every server process sees every outcome, retries included. Read per
    chain: a chain's rows become visible in chain order (appends hold the chain's lock until commit),
    whereas the global seq of two sites' rows may commit out of order.
    """
    site_ids = visible_site_ids(session, principal)
    if site_ids is None:
        site_ids = list(session.scalars(select(col(Site.id))))
    if not site_ids:
        return after, []
    unread = or_(*(and_(col(AuditRecord.site_id) == s, col(AuditRecord.chain_seq) > after.get(s, 0)) for s in site_ids))
    rows = list(session.execute(select(
        col(AuditRecord.site_id), col(AuditRecord.chain_seq), col(AuditRecord.entity_id)).where(
        unread, col(AuditRecord.action).in_(TRIGGER_OUTCOME_ACTIONS)).order_by(col(AuditRecord.seq)).limit(500)))
    if not rows:
        return after, []
    position = dict(after)
    for site_id, chain_seq, _ in rows:
        position[site_id] = max(position.get(site_id, 0), chain_seq)
    named = {int(e) for *_, e in rows}
    triggers = {t.id: t for t in session.scalars(select(Trigger).where(col(Trigger.id).in_(named)))}
    wanted = [triggers[int(e)] for *_, e in rows if int(e) in triggers]
    return position, [t for t in wanted if work_order_id is None or t.work_order_id == work_order_id]
