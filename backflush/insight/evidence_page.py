"""The printable evidence page: the evidence document laid out for a person, pictures inline.

Built from the same document the JSON download carries, so the page and the archive cannot differ.
Every value is escaped; the pictures are SVG this service drew itself (backflush/insight/svg.py).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from html import escape

from kernel.audit.canonical import utc_text

STYLE = """body{font:13px/1.4 'DejaVu Sans',Arial,sans-serif;margin:24px;color:#111}h1{font-size:20px}
h2{font-size:16px;border-bottom:2px solid #333;margin-top:28px;page-break-after:avoid}table{border-collapse:collapse;
width:100%;margin:6px 0 12px}th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1b5e20}.bad{color:#b71c1c}
.picture{overflow-x:auto}code{font-size:11px;word-break:break-all}@media print{.picture{overflow:visible}}"""


def evidence_page(document: dict, *, sha256: str, json_url: str, genealogy_svg: str | None,
                  control_charts: dict[str, str]) -> str:
    order = document["work_order"]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Evidence pack {_e(order['number'])}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>Evidence pack — work order {_e(order['number'])}</h1>",
             f"<p>Archive copy: <a href='{_e(json_url)}'>JSON document</a>, SHA-256 of its canonical form "
             f"<code id='sha256'>{_e(sha256)}</code></p>"]
    parts += [_order(order), _bom(document), _conversions(document), _labels(document), _staging(document),
              _triggers(document), _decisions(document), _postings(document),
              _genealogy(document, genealogy_svg), _reversals(document), _variances(document, control_charts),
              _deviations(document), _audit(document), "</body></html>"]
    return "\n".join(parts)


def _order(order: dict) -> str:
    ops = _table(["seq", "operation", "work center"], [[o["seq"], o["name"], o["work_center"]] for o in order["operations"]])
    return ("<h2 id='order'>Work order</h2>" + _table(
        ["number", "site", "product", "quantity", "status", "output lot", "released", "closed"],
        [[order["number"], order["site"], f"{order['product']} — {order['product_name']}", order["quantity"],
          order["status"], order["output_lot"], order["released_at"], order["closed_at"]]]) + ops)


def _bom(document: dict) -> str:
    bom = document["bom"]
    lines = [[ln["line_no"], ln["component"], ln["quantity"], ln["uom"], ln["scrap_percent"], ln["setup_scrap"],
              ln["yield_percent"], ln["scrap_source"], ln["operation_seq"], ln["posting_method"],
              "; ".join(f"{a['component']} × {a['ratio']} (priority {a['priority']})" for a in ln["alternates"])]
             for ln in bom["lines"]]
    return (f"<h2 id='bom'>Bound BOM: {_e(bom['item'])} version {bom['version']} ({_e(bom['status'])}), per "
            f"{_e(bom['base_quantity'])}, effective {_e(bom['effective_from'])}</h2>"
            + _table(["line", "component", "quantity", "uom", "scrap %", "setup scrap", "yield %",
                      "scrap/yield source", "operation", "method", "alternates"], lines)
            + "<p>Approval signatures (21 CFR 11.50: printed name, time, meaning):</p>" + _signatures(bom["signatures"]))


def _conversions(document: dict) -> str:
    precision = _table(["item", "name", "base uom", "precision (places)", "rounding", "standard cost"],
                       [[i["code"], i["name"], i["base_uom"], i["precision"], i["rounding"], i["standard_cost"]]
                        for i in document["items"]])
    rows = [[c["item"] or "(all items)", c["lot"], c["from_uom"], c["to_uom"], c["factor"], c["version"], c["status"],
             c["density_source"], c["effective_from"], _signature_text(c["signatures"])] for c in document["conversions"]]
    return ("<h2 id='conversions'>Unit conversions and precision rules</h2>"
            + _table(["item", "lot", "from", "to", "factor", "version", "status", "source", "effective", "signed"], rows)
            + "<p>Quantities are rounded once, to the item's precision, with its rounding rule:</p>" + precision)


def _labels(document: dict) -> str:
    return "<h2 id='labels'>Labels (no label approval, no packout)</h2>" + _table(
        ["version", "content", "status", "approved", "signatures"],
        [[x["version"], x["content"], x["status"], x["approved_at"], _signature_text(x["signatures"])]
         for x in document["labels"]])


def _staging(document: dict) -> str:
    lots = _table(["lot", "item", "status", "supplier", "expires"],
                  [[x["lot"], x["item"], x["status"], x["supplier"], x["expires_on"]] for x in document["lots"]])
    return ("<h2 id='staging'>Staging and eligibility</h2>" + _table(
        ["lot", "item", "staged", "remaining", "staged at"],
        [[s["lot"], s["item"], s["staged_quantity"], s["remaining_quantity"], s["staged_at"]]
         for s in document["staging"]]) + "<p>Lots concerned and their status now:</p>" + lots)


def _triggers(document: dict) -> str:
    return "<h2 id='triggers'>Triggers and the devices that sent them</h2>" + _table(
        ["id", "kind", "op", "good", "scrap", "device", "device time", "skew s", "received", "outcome",
         "block reasons", "first blocked", "posted", "reversed", "by"],
        [[t["id"], t["kind"], t["operation_seq"], t["good"], t["scrap"], t["device_id"], t["device_timestamp"],
          t["clock_skew_seconds"], t["received_at"], t["outcome"],
          "; ".join(f"{r.get('code')}: {r.get('message')}" for r in t["block_reasons"]), t["first_blocked_at"],
          t["posted_at"], t["reversed"], t["actor"]] for t in document["triggers"]])


def _decisions(document: dict) -> str:
    return "<h2 id='decisions'>Rule-set decisions (versions in force, fired rules)</h2>" + _table(
        ["rule set", "kind", "version", "engine", "trigger", "reversal", "outcome", "decided", "fired", "input hash"],
        [[d["rule_set"], d["kind"], d["version"], d["engine"], d["trigger_id"], d["reversal_id"], d["outcome"],
          d["decided_at"], "; ".join(f"{f.get('rule_id')} → {f.get('action')} {f.get('params')}" for f in d["fired"])
          or "(none fired)", d["input_hash"]] for d in document["decisions"]])


def _postings(document: dict) -> str:
    return "<h2 id='postings'>Ledger postings of the order</h2>" + _table(
        ["id", "kind", "trigger", "line", "item", "lot", "quantity", "uom", "line qty", "line uom", "factor",
         "substitutes", "reverses", "reason", "by", "device", "at"],
        [[m["id"], m["kind"], m["trigger_id"], m["line_no"], m["item"], m["lot"], m["quantity"], m["uom"],
          m["line_quantity"], m["line_uom"], m["conversion_factor"], m["substitutes_for"], m["reverses"],
          m["reason_code"], m["actor"], m["device_id"], m["at"]] for m in document["postings"]])


def _genealogy(document: dict, picture: str | None) -> str:
    tree = document["genealogy"]
    if tree is None:
        return "<h2 id='genealogy'>Genealogy</h2><p>No output lot yet.</p>"
    edges = _table(["from (consumed)", "to (made)", "quantity", "uom", "work order", "level", "reversed"],
                   [[e["from"], e["to"], e["quantity"], e["uom"], e["work_order"], e["level"], e["reversed"]]
                    for e in tree["edges"]])
    return (f"<h2 id='genealogy'>Genealogy of {_e(tree['root'])}, every level</h2><div class='picture' "
            f"id='genealogy-svg'>{picture or ''}</div>" + edges
            + ("<p class='bad'>Truncated at the maximum depth.</p>" if tree["truncated"] else ""))


def _reversals(document: dict) -> str:
    return "<h2 id='reversals'>Reversals with reasons and signatures</h2>" + _table(
        ["trigger", "reason", "comment", "status", "required", "requested by", "requested", "executed", "signatures"],
        [[r["trigger_id"], r["reason_code"], r["comment"], r["status"],
          "; ".join(f"{q['count']} of {'/'.join(q['roles'])} ({q['meaning']})" for q in r["required"] or []),
          r["requested_by"], r["requested_at"], r["executed_at"], _signature_text(r["signatures"])]
         for r in document["reversals"]])


def _variances(document: dict, charts: dict[str, str]) -> str:
    table = _table(["line", "component", "for", "standard", "actual", "usage", "yield", "mix", "residual", "%",
                    "cost", "uom"],
                   [[v["line_no"], v["component"], v["substitutes_for"], v["standard"], v["actual"], v["usage"],
                     v["yield"], v["mix"], v["residual"], v["percent"], v["cost"], v["uom"]] for v in document["variances"]])
    pictures = "".join(f"<div class='picture control-chart' data-item='{_e(code)}'>{svg}</div>"
                       for code, svg in charts.items())
    return "<h2 id='variances'>Variances and control limits</h2>" + table + pictures


def _deviations(document: dict) -> str:
    return "<h2 id='deviations'>Deviations</h2>" + _table(
        ["number", "category", "severity", "status", "reason", "occurrences", "opened", "closed", "root cause",
         "CAPA", "signatures"],
        [[d["number"], d["category"], d["severity"], d["status"], d["reason_code"], d["occurrences"], d["opened_at"],
          d["closed_at"], d["root_cause"], d["capa_reference"], _signature_text(d["signatures"])]
         for d in document["deviations"]])


def _audit(document: dict) -> str:
    check = document["audit_verification"]
    verdict = (f"<p class='{'ok' if check['ok'] else 'bad'}' id='audit-verification'>Audit trail verification: "
               f"{'intact' if check['ok'] else 'BROKEN'} — {check['checked']} rows checked, "
               f"first broken seq {_e(check['first_broken_seq'])}, {check['break_count']} break(s)</p>")
    rows = [[r["seq"], r["chain_seq"], r["at"], r["actor"], r["device_id"], r["action"],
             f"{r['entity_type']} {r['entity_id']}", r["before"], r["after"], r["reason"], r["hash"][:16] + "…"]
            for r in document["audit_trail"]]
    return ("<h2 id='audit'>Audit trail of the order (before and after values)</h2>" + verdict
            + _table(["seq", "chain", "at", "actor", "device", "action", "entity", "before", "after", "reason", "hash"],
                     rows) + ("<p class='bad'>Only the first rows are shown.</p>" if document["audit_truncated"] else ""))


def _signatures(signatures: list[dict]) -> str:
    return _table(["printed name", "meaning", "signed (UTC)", "record hash"],
                  [[s["signer"], s["meaning"], s["signed_at"], s["record_hash"]] for s in signatures])


def _signature_text(signatures: list[dict]) -> str:
    return "; ".join(f"{s['signer']}, \"{s['meaning']}\", {_text(s['signed_at'])}" for s in signatures)


def _table(headers: list[str], rows: list[list]) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td{' class=n' if isinstance(v, (int, Decimal)) else ''}>{_e(v)}</td>"
                                    for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(value) -> str:
    return escape(_text(value), quote=True)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)
