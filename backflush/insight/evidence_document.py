"""The evidence pack as one JSON document, and the SHA-256 of its canonical form (for archiving).

The document holds exactly what the printable page shows; Decimals stay exact (as text in the
canonical form, like the audit trail's hashes).
"""
from __future__ import annotations

from backflush.insight.evidence import EvidencePack
from kernel.audit import canonical, sha256
from models.stored import stored_id

FORMAT = "backflush.evidence-pack/1"


def evidence_document(pack: EvidencePack) -> dict:
    order, code = pack.work_order, (lambda item_id: pack.items[item_id].code if item_id in pack.items else None)
    lot_number = lambda lot_id: pack.lots[lot_id].lot_number if lot_id in pack.lots else None  # noqa: E731
    return {
        "format": FORMAT,
        "work_order": {"number": order.number, "site": pack.site.code, "product": code(order.item_id),
                       "product_name": pack.product.name, "quantity": order.quantity, "status": order.status,
                       "output_lot": lot_number(order.output_lot_id), "created_at": order.created_at,
                       "released_at": order.released_at, "closed_at": order.closed_at,
                       "operations": [{"seq": op.seq, "name": op.name, "work_center": op.work_center}
                                      for op in sorted(pack.operations, key=lambda op: op.seq)]},
        "bom": {"item": code(pack.bom.item_id), "version": pack.bom.version, "status": pack.bom.status,
                "base_quantity": pack.bom.base_quantity, "effective_from": pack.bom.effective_from,
                "lines": [_line(line, pack, code) for line in pack.bom_lines],
                "signatures": _signatures(pack.signed("bom", stored_id(pack.bom)))},
        "items": [{"code": i.code, "name": i.name, "base_uom": i.base_uom, "precision": i.precision,
                   "rounding": i.rounding, "standard_cost": i.standard_cost}
                  for i in sorted(pack.items.values(), key=lambda i: i.code)],
        "conversions": [{"item": code(c.item_id), "lot": lot_number(c.lot_id), "from_uom": c.from_uom,
                         "to_uom": c.to_uom, "factor": c.factor, "version": c.version, "status": c.status,
                         "density_source": c.density_source, "effective_from": c.effective_from,
                         "signatures": _signatures(pack.signed("uom_conversion", stored_id(c)))}
                        for c in pack.conversions],
        "labels": [{"version": label.version, "content": label.content, "status": label.status,
                    "approved_at": label.approved_at,
                    "signatures": _signatures(pack.signed("label_version", stored_id(label)))}
                   for label in pack.labels],
        "staging": [{"lot": lot_number(s.lot_id), "item": code(pack.lots[s.lot_id].item_id),
                     "staged_quantity": s.staged_quantity, "remaining_quantity": s.remaining_quantity,
                     "staged_at": s.staged_at} for s in pack.staged],
        "lots": [{"lot": lot.lot_number, "item": code(lot.item_id), "status": lot.status, "supplier": lot.supplier,
                  "expires_on": lot.expires_on} for lot in sorted(pack.lots.values(), key=stored_id)],
        "triggers": [_trigger(t) for t in pack.triggers],
        "decisions": [{"rule_set": rule_set.name if rule_set else None,
                       "kind": rule_set.kind if rule_set else None, "version": d.version, "engine": d.engine,
                       "trigger_id": d.trigger_id, "reversal_id": d.reversal_id, "outcome": d.outcome,
                       "decided_at": d.decided_at, "fired": d.fired, "input_hash": d.input_hash}
                      for d in pack.decisions for rule_set in [pack.rule_sets.get(d.rule_set_id)]],
        "postings": [{"id": m.id, "kind": m.kind, "trigger_id": m.trigger_id, "line_no": m.bom_line_no,
                      "item": code(m.item_id), "lot": lot_number(m.lot_id), "quantity": m.quantity, "uom": m.uom,
                      "line_quantity": m.line_quantity, "line_uom": m.line_uom,
                      "conversion_factor": m.conversion_factor, "substitutes_for": code(m.substitutes_for_item_id),
                      "reverses": m.reverses_entry_id, "reason_code": m.reason_code, "actor": m.actor,
                      "device_id": m.device_id, "at": m.created_at} for m in pack.movements],
        "genealogy": _genealogy(pack, code, lot_number),
        "reversals": [{"trigger_id": r.trigger_id, "reason_code": r.reason_code, "comment": r.comment,
                       "status": r.status, "required": r.required, "requested_by": r.requested_by,
                       "requested_at": r.requested_at, "executed_at": r.executed_at,
                       "signatures": _signatures(pack.signed("reversal", stored_id(r)))} for r in pack.reversals],
        "variances": [{"line_no": v.line_no, "component": code(v.component_id),
                       "substitutes_for": code(v.substitutes_for_item_id), "standard": v.standard_quantity,
                       "actual": v.actual_quantity, "usage": v.usage_variance, "yield": v.yield_variance,
                       "mix": v.mix_variance, "residual": v.residual_variance, "percent": v.variance_percent,
                       "cost": v.usage_variance_cost, "uom": v.uom} for v in pack.variances],
        "deviations": [{"number": d.number, "category": d.category, "severity": d.severity, "status": d.status,
                        "reason_code": d.reason_code, "occurrences": d.occurrences, "opened_at": d.opened_at,
                        "closed_at": d.closed_at, "root_cause": d.root_cause, "capa_reference": d.capa_reference,
                        "signatures": _signatures(pack.signed("deviation", stored_id(d)))} for d in pack.deviations],
        "audit_trail": [{"seq": r.seq, "chain_seq": r.chain_seq, "at": r.at, "actor": r.actor, "device_id": r.device_id,
                         "action": r.action, "entity_type": r.entity_type, "entity_id": r.entity_id,
                         "before": r.before, "after": r.after, "reason": r.reason, "hash": r.hash,
                         "prev_hash": r.prev_hash} for r in pack.audit_trail],
        "audit_truncated": pack.audit_truncated,
        "audit_verification": {"ok": pack.verification.ok, "checked": pack.verification.checked,
                               "first_broken_seq": pack.verification.first_broken_seq,
                               "break_count": pack.verification.break_count},
    }


def canonical_bytes(document: dict) -> bytes:
    return canonical(document).encode()


def document_sha256(document: dict) -> str:
    return sha256(canonical(document))


def _line(line, pack: EvidencePack, code) -> dict:
    return {"line_no": line.line_no, "component": code(line.component_id), "quantity": line.quantity, "uom": line.uom,
            "scrap_percent": line.scrap_percent, "setup_scrap": line.setup_scrap, "yield_percent": line.yield_percent,
            "scrap_source": line.scrap_source, "operation_seq": line.operation_seq,
            "posting_method": line.posting_method,
            "alternates": [{"component": code(a.component_id), "ratio": a.ratio, "priority": a.priority}
                           for a in pack.alternates if a.bom_line_id == line.id]}


def _trigger(t) -> dict:
    return {"id": t.id, "idempotency_key": t.idempotency_key, "kind": t.kind, "operation_seq": t.operation_seq,
            "good": t.good_quantity, "scrap": t.scrap_quantity, "device_id": t.device_id,
            "device_timestamp": t.device_timestamp, "clock_skew_seconds": t.clock_skew_seconds,
            "handling_unit": t.handling_unit, "received_at": t.received_at, "outcome": t.outcome,
            "block_reasons": t.block_reasons or [], "first_blocked_at": t.first_blocked_at, "posted_at": t.posted_at,
            "reversed": t.reversed, "actor": t.actor}


def _genealogy(pack: EvidencePack, code, lot_number) -> dict | None:
    tree = pack.genealogy
    if tree is None:
        return None
    return {"root": lot_number(tree.root_lot_id), "direction": tree.direction, "truncated": tree.truncated,
            "lots": [lot_number(lot_id) for lot_id in tree.lot_ids],
            "edges": [{"from": lot_number(e.from_lot_id), "to": lot_number(e.to_lot_id), "quantity": e.quantity,
                       "uom": e.uom, "work_order": pack.order_numbers.get(e.work_order_id), "level": e.level,
                       "reversed": e.reversed} for e in tree.edges]}


def _signatures(signatures) -> list[dict]:
    """21 CFR 11.50: printed name, time and meaning, with the hash of what was signed."""
    return [{"signer": s.signer_name, "meaning": s.meaning, "signed_at": s.signed_at, "record_hash": s.record_hash}
            for s in signatures]
