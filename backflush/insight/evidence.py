"""The evidence pack of one work order (issue 14): everything that shows how its usage was posted,
read in a fixed number of statements and only when the order lies in the principal's sites.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.reads import records as reads
from backflush.reads.genealogy import MAX_DEPTH, Tree, backward_tree
from kernel import audit
from kernel.database import referenced_row
from models import (
    AuditRecord,
    Bom,
    BomAlternate,
    BomLine,
    ComponentVariance,
    Deviation,
    ESignature,
    Item,
    LabelVersion,
    LedgerEntry,
    Lot,
    Reversal,
    RuleDecision,
    RuleSet,
    Site,
    StagedLot,
    Trigger,
    UomConversion,
    WorkOrder,
    WorkOrderOperation,
)

AUDIT_SLICE_LIMIT = 5000  # an order's own history; a pack larger than this says so (audit_truncated)


@dataclass(frozen=True)
class EvidencePack:
    work_order: WorkOrder
    site: Site
    product: Item
    bom: Bom
    bom_lines: list[BomLine]
    alternates: list[BomAlternate]
    operations: list[WorkOrderOperation]
    items: dict[int, Item]
    conversions: list[UomConversion]
    labels: list[LabelVersion]
    staged: list[StagedLot]
    triggers: list[Trigger]
    movements: list[LedgerEntry]  # the order's issues, receipts, returns, scrap and reversal rows
    decisions: list[RuleDecision]
    rule_sets: dict[int, RuleSet]
    genealogy: Tree | None  # backward from the output lot, every level
    order_numbers: dict[int, str]  # the work orders of the genealogy's edges
    lots: dict[int, Lot]
    reversals: list[Reversal]
    deviations: list[Deviation]
    variances: list[ComponentVariance]
    signatures: dict[tuple[str, int], list[ESignature]]  # (record type, id) → signatures
    audit_trail: list[AuditRecord]
    audit_truncated: bool
    verification: audit.Verification
    read_at: datetime

    def signed(self, record_type: str, record_id: int) -> list[ESignature]:
        return self.signatures.get((record_type, record_id), [])


def evidence_pack(session: Session, principal: Principal, work_order_id: int | None, *,
                  at: datetime) -> EvidencePack | None:
    order = reads.record_in_sites(session, principal, WorkOrder, work_order_id) if work_order_id else None
    if order is None:
        return None
    bom = referenced_row(session, Bom, order.bom_id)
    lines = list(session.scalars(select(BomLine).where(col(BomLine.bom_id) == bom.id).order_by(col(BomLine.line_no))))
    alternates = _all(session, BomAlternate, col(BomAlternate.bom_line_id), [line.id for line in lines])
    by_order = lambda model: list(session.scalars(select(model).where(model.work_order_id == order.id)  # noqa: E731
                                                  .order_by(model.id)))
    triggers, movements, staged = by_order(Trigger), by_order(LedgerEntry), by_order(StagedLot)
    reversals = _all(session, Reversal, col(Reversal.trigger_id), [t.id for t in triggers])
    decisions = list(session.scalars(select(RuleDecision).where(or_(
        col(RuleDecision.work_order_id) == order.id, col(RuleDecision.trigger_id).in_([t.id for t in triggers]),
        col(RuleDecision.reversal_id).in_([r.id for r in reversals]))).order_by(col(RuleDecision.id))))
    tree = backward_tree(session, root_lot_id=order.output_lot_id, max_depth=MAX_DEPTH) if order.output_lot_id else None
    lot_ids = set(tree.lot_ids if tree else ()) | {m.lot_id for m in movements} | {s.lot_id for s in staged}
    lots = {lot.id: lot for lot in _all(session, Lot, col(Lot.id), lot_ids)}
    deviations, variances, labels = by_order(Deviation), by_order(ComponentVariance), by_order(LabelVersion)
    item_ids = ({order.item_id} | {line.component_id for line in lines} | {a.component_id for a in alternates}
                | {lot.item_id for lot in lots.values()})
    items = {item.id: item for item in _all(session, Item, col(Item.id), item_ids)}
    records = {"bom": [bom.id], "reversal": [r.id for r in reversals], "deviation": [d.id for d in deviations],
               "label_version": [label.id for label in labels], "rule_set": sorted({d.rule_set_id for d in decisions}),
               "lot": sorted(lot_ids), "uom_conversion": []}
    conversions = _conversions(session, items, lines, lot_ids)
    records["uom_conversion"] = [c.id for c in conversions]
    trail = _audit_slice(session, order, triggers, staged, records)
    return EvidencePack(
        work_order=order, site=referenced_row(session, Site, order.site_id), product=items[order.item_id], bom=bom,
        bom_lines=lines, alternates=alternates,
        operations=by_order(WorkOrderOperation), items=items, conversions=conversions, labels=labels, staged=staged,
        triggers=triggers, movements=movements, decisions=decisions,
        rule_sets={r.id: r for r in _all(session, RuleSet, col(RuleSet.id), records["rule_set"])}, genealogy=tree,
        order_numbers={o.id: o.number for o in _all(session, WorkOrder, col(WorkOrder.id),
                                                    {e.work_order_id for e in tree.edges} if tree else ())},
        lots=lots, reversals=reversals, deviations=deviations, variances=variances,
        signatures=_signatures(session, records), audit_trail=trail[:AUDIT_SLICE_LIMIT],
        audit_truncated=len(trail) > AUDIT_SLICE_LIMIT, verification=reads.audit_verification(session, principal),
        read_at=at)


def _all(session: Session, model, column, values) -> list:
    values = sorted(set(values))
    if not values:
        return []
    return list(session.scalars(select(model).where(column.in_(values)).order_by(column)))


def _conversions(session: Session, items: dict[int, Item], lines: list[BomLine], lot_ids) -> list[UomConversion]:
    """Every approved conversion that could have converted this order's lines: the components' own, the
    global ones from the lines' uoms, and the measured ones of the lots it touched."""
    uoms = {line.uom for line in lines} | {item.base_uom for item in items.values()}
    statement = select(UomConversion).where(col(UomConversion.status) != "DRAFT", or_(
        col(UomConversion.item_id).in_(sorted(items)), col(UomConversion.lot_id).in_(sorted(lot_ids)),
        and_(col(UomConversion.item_id).is_(None), col(UomConversion.lot_id).is_(None),
             col(UomConversion.from_uom).in_(sorted(uoms)))))
    return list(session.scalars(statement.order_by(col(UomConversion.id))))


def _signatures(session: Session, records: dict[str, list[int]]) -> dict[tuple[str, int], list[ESignature]]:
    wanted = [and_(col(ESignature.record_type) == kind, col(ESignature.record_id).in_(ids))
              for kind, ids in records.items() if ids]
    found: dict[tuple[str, int], list[ESignature]] = {}
    statement = select(ESignature).where(or_(*wanted)).order_by(col(ESignature.id))
    for signature in session.scalars(statement) if wanted else []:
        found.setdefault((signature.record_type, signature.record_id), []).append(signature)
    return found


def _audit_slice(session: Session, order: WorkOrder, triggers, staged, records) -> list[AuditRecord]:
    """The order's rows of its site's chain: the order, its triggers, staging, reversals, deviations, labels."""
    about = {"work_order": [order.id], "trigger": [t.id for t in triggers], "staged_lot": [s.id for s in staged],
             "reversal": records["reversal"], "deviation": records["deviation"],
             "label_version": records["label_version"]}
    wanted = [and_(col(AuditRecord.entity_type) == kind, col(AuditRecord.entity_id).in_([str(i) for i in ids]))
              for kind, ids in about.items() if ids]
    statement = (select(AuditRecord).where(col(AuditRecord.site_id) == order.site_id, or_(*wanted))
                 .order_by(col(AuditRecord.chain_seq)).limit(AUDIT_SLICE_LIMIT + 1))
    return list(session.scalars(statement))
