"""The floor (issue 12): the smallest transaction that writes what a served trigger writes — psycopg, no ORM.

One trigger, one transaction, in the project's real tables, 11 statements:

   1  lock the work order row (SELECT … FOR UPDATE)
   2  INSERT the trigger (unique client + idempotency key) and its first attempt
   3  lock the drawn balances in (lot, location) order (SELECT … FOR UPDATE)
   4  one multi-row INSERT of the ledger rows (one per draw)
   5  one UPDATE … FROM VALUES of those balances (the CHECK ≥ 0 guards them)
   6  one UPDATE … FROM VALUES of the staged bindings
   7  one multi-row INSERT of the genealogy edges
   8  the production receipt's ledger row
   9  the output balance upsert — which also takes the audit chain's lock (see `chain_lock_cte`)
  10  one audit row chained to the previous hash
  11  COMMIT

Only the order's first trigger sends a twelfth (RELEASED → IN_PROGRESS, as the server does); the bench
spends it in the warm-up. The draws are the server's for a one-unit trigger on the bench's plain BOM
(`bench.floor_order`): every line, FEFO, a binding running out means two draws — so the rows match.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import psycopg

from bench.floor_order import FloorDraw, FloorOrder, plan_draws
from kernel.audit import GENESIS, canonical, sha256

TRIGGER_KIND = "GOOD_UNITS_DECLARED"
STATEMENTS_PER_TRIGGER = 11


class CountedCursor:
    """A cursor that counts what it sends; COMMIT is counted by `FloorClient`."""

    def __init__(self, cursor: psycopg.Cursor):
        self.cursor, self.sent = cursor, 0

    def execute(self, sql: str, params=None) -> psycopg.Cursor:
        self.sent += 1
        return self.cursor.execute(sql, params)


@dataclass
class FloorClient:
    """One client of the floor: its own connection and work order; the only writer of that order's bindings."""

    connection: psycopg.Connection
    order: FloorOrder
    subject: str  # the trigger's client_id and actor, like a principal's subject
    statements: int = 0

    def post(self, key: str, good: Decimal = Decimal(1)) -> int:
        """Post one trigger; returns its id. Raises (and rolls back) if anything is refused."""
        draws = plan_draws(self.order, good)
        cursor = CountedCursor(self.connection.cursor())
        try:
            trigger_id = write_trigger(cursor, self.order, draws, subject=self.subject, key=key, good=good)
            self.connection.commit()
        except BaseException:
            self.connection.rollback()
            raise
        finally:
            self.statements += cursor.sent + 1  # + COMMIT (or the ROLLBACK)
            cursor.cursor.close()
        for draw in draws:
            draw.binding.remaining -= draw.quantity
        return trigger_id


def write_trigger(cursor: CountedCursor, order: FloorOrder, draws: list[FloorDraw], *, subject: str, key: str,
                  good: Decimal) -> int:
    now = datetime.now(UTC)
    _lock_order(cursor, order)
    trigger_id = _insert_trigger(cursor, order, subject=subject, key=key, good=good, now=now)
    _lock_balances(cursor, draws)
    entry_ids = _insert_issues(cursor, order, draws, trigger_id=trigger_id, subject=subject, now=now)
    _decrement(cursor, "balance", ["lot_id", "location_id"],
               [((d.binding.lot_id, d.binding.location_id), d.quantity) for d in draws])
    _decrement(cursor, "stagedlot", ["id"], [((d.binding.binding_id,), d.quantity) for d in draws],
               column="remaining_quantity")
    _insert_edges(cursor, order, draws, entry_ids, trigger_id=trigger_id)
    _receive_output(cursor, order, trigger_id=trigger_id, subject=subject, good=good, now=now)
    append_audit(cursor, site_id=order.site_id, actor=subject, action="trigger.posted", entity_type="trigger",
                 entity_id=str(trigger_id), before={"outcome": "PENDING"}, at=now,
                 after={"draws": len(draws), "operation_seq": order.operation_seq, "good": good, "scrap": Decimal(0)})
    return trigger_id


def _lock_order(cursor: CountedCursor, order: FloorOrder) -> None:
    row = cursor.execute("SELECT status FROM workorder WHERE id = %s FOR UPDATE", (order.work_order_id,)).fetchone()
    if row is None or row[0] not in ("RELEASED", "IN_PROGRESS"):
        raise RuntimeError(f"floor work order {order.work_order_id} is not open: {row}")
    if row[0] == "RELEASED":
        cursor.execute("UPDATE workorder SET status = 'IN_PROGRESS' WHERE id = %s", (order.work_order_id,))


def _payload_hash(order: FloorOrder, good: Decimal) -> str:
    """As `backflush.services.trigger_eval.payload_hash` hashes a one-kind, good-units-only request."""
    return sha256(canonical({"work_order_id": order.work_order_id, "kind": TRIGGER_KIND, "good": good.normalize(),
                             "scrap": Decimal(0).normalize(), "operation_seq": None, "device_id": None,
                             "device_timestamp": None, "serials": [], "handling_unit": None}))


def _insert_trigger(cursor: CountedCursor, order: FloorOrder, *, subject: str, key: str, good: Decimal,
                    now: datetime) -> int:
    # The trigger and its first (posted) attempt, in one statement.
    return cursor.execute(
        "WITH t AS (INSERT INTO trigger (client_id, idempotency_key, payload_hash, site_id, work_order_id, "
        "operation_seq, kind, good_quantity, scrap_quantity, serials, received_at, outcome, block_reasons, posted_at, "
        "reversed, actor) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0, 'null', %s, 'POSTED', 'null', %s, false, %s) "
        "RETURNING id), a AS (INSERT INTO triggerattempt (trigger_id, number, outcome, block_reasons, evaluated_at, "
        "actor) SELECT id, 1, 'POSTED', 'null', %s, %s FROM t) SELECT id FROM t",
        (subject, key, _payload_hash(order, good), order.site_id, order.work_order_id, order.operation_seq,
         TRIGGER_KIND, good, now, now, subject, now, subject)).fetchone()[0]


def _lock_balances(cursor: CountedCursor, draws: list[FloorDraw]) -> None:
    keys = sorted({(d.binding.lot_id, d.binding.location_id) for d in draws})
    locked = cursor.execute(
        "SELECT b.lot_id, b.location_id FROM balance b JOIN unnest(%s::int[], %s::int[]) AS k(lot_id, location_id) "
        "ON b.lot_id = k.lot_id AND b.location_id = k.location_id ORDER BY b.lot_id, b.location_id FOR UPDATE OF b",
        ([lot for lot, _ in keys], [location for _, location in keys])).fetchall()
    if len(locked) != len(keys):
        raise RuntimeError(f"floor: {len(keys) - len(locked)} drawn balances are missing")


def _rows(count: int, width: int) -> str:
    row = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([row] * count)


def _insert_issues(cursor: CountedCursor, order: FloorOrder, draws: list[FloorDraw], *, trigger_id: int,
                   subject: str, now: datetime) -> list[int]:
    values = [value for d in draws for value in (
        "BACKFLUSH_ISSUE", order.site_id, d.binding.lot_id, d.item_id, d.binding.location_id, d.quantity, d.uom,
        order.work_order_id, trigger_id, d.binding.binding_id, d.line_no, subject, now)]
    rows = cursor.execute(
        "INSERT INTO ledgerentry (kind, site_id, lot_id, item_id, from_location_id, quantity, uom, work_order_id, "
        f"trigger_id, staged_lot_id, bom_line_no, actor, created_at) VALUES {_rows(len(draws), 13)} "
        "RETURNING id, staged_lot_id", values).fetchall()
    by_binding = {binding_id: entry_id for entry_id, binding_id in rows}
    return [by_binding[d.binding.binding_id] for d in draws]


def _decrement(cursor: CountedCursor, table: str, key_columns: list[str], amounts: list[tuple[tuple, Decimal]],
               *, column: str = "quantity") -> None:
    """One UPDATE … FROM (VALUES …) subtracting each amount from the row its key names."""
    totals: dict[tuple, Decimal] = {}
    for key, amount in amounts:
        totals[key] = totals.get(key, Decimal(0)) + amount
    amounts = sorted(totals.items())
    casts = ", ".join(["%s::int"] * len(key_columns) + ["%s::numeric"])
    values = ", ".join([f"({casts})"] * len(amounts))
    match = " AND ".join(f"t.{c} = v.{c}" for c in key_columns)
    params = [value for key, amount in amounts for value in (*key, amount)]
    updated = cursor.execute(
        f"UPDATE {table} AS t SET {column} = t.{column} - v.amount FROM (VALUES {values}) "
        f"AS v({', '.join(key_columns)}, amount) WHERE {match}", params).rowcount
    if updated != len(amounts):
        raise RuntimeError(f"floor: updated {updated} {table} rows for {len(amounts)} draws")


def _insert_edges(cursor: CountedCursor, order: FloorOrder, draws: list[FloorDraw], entry_ids: list[int], *,
                  trigger_id: int) -> None:
    values = [value for d, entry_id in zip(draws, entry_ids, strict=True) for value in (
        d.binding.lot_id, order.output_lot_id, d.quantity, d.uom, order.work_order_id, trigger_id, entry_id, False)]
    cursor.execute(
        "INSERT INTO genealogyedge (from_lot_id, to_lot_id, quantity, uom, work_order_id, trigger_id, "
        f"ledger_entry_id, reversed) VALUES {_rows(len(draws), 8)}", values)


def _receive_output(cursor: CountedCursor, order: FloorOrder, *, trigger_id: int, subject: str, good: Decimal,
                    now: datetime) -> None:
    cursor.execute(
        "INSERT INTO ledgerentry (kind, site_id, lot_id, item_id, to_location_id, quantity, uom, work_order_id, "
        "trigger_id, actor, created_at) VALUES ('PRODUCTION_RECEIPT', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (order.site_id, order.output_lot_id, order.product_item_id, order.output_location_id, good, order.product_uom,
         order.work_order_id, trigger_id, subject, now))
    cursor.execute(
        f"WITH {chain_lock_cte(order.site_id)} INSERT INTO balance (lot_id, location_id, quantity) "
        "SELECT %s, %s, %s FROM audit_chain ON CONFLICT (lot_id, location_id) "
        "DO UPDATE SET quantity = balance.quantity + EXCLUDED.quantity",
        (order.output_lot_id, order.output_location_id, good))


# ---- the audit row: kept together, so a change to the audit table is adapted here and only here -----------

def chain_lock_cte(site_id: int) -> str:
    """The lock `kernel.audit` takes before appending to a site's chain (one advisory lock per chain), as a
    CTE named audit_chain.

    It rides on the statement before the audit INSERT rather than inside it: a statement reads with the
    snapshot it started with, so an INSERT that waited for the lock itself would chain to a stale last row.
    """
    return f"audit_chain AS (SELECT pg_advisory_xact_lock(727001, {int(site_id)}))"


SEQ_SENTINEL = -727_001_727  # stands for the chain_seq PostgreSQL assigns, inside the canonical text hashed


def append_audit(cursor: CountedCursor, *, site_id: int, actor: str, action: str, entity_type: str, entity_id: str,
                 before: dict | None, after: dict | None, at: datetime) -> None:
    """One INSERT into the site's chain: chain_seq and prev_hash from the chain's last row, the hash over the same
    canonical text `kernel.audit.verify` recomputes, with the new chain_seq spliced in by PostgreSQL."""
    before_json, after_json = (None if v is None else json.loads(canonical(v)) for v in (before, after))
    content = {"seq": SEQ_SENTINEL, "at": at, "actor": actor, "device_id": None, "device_time": None,
               "action": action, "entity_type": entity_type, "entity_id": entity_id, "before": before_json,
               "after": after_json, "reason": None, "site_id": site_id}
    prefix, sentinel, suffix = canonical(content).partition(f'"seq":{SEQ_SENTINEL}')
    if not sentinel or str(SEQ_SENTINEL) in suffix:
        raise RuntimeError("the audit content's canonical text must hold the seq exactly once")
    prefix += '"seq":'
    cursor.execute(
        "INSERT INTO auditrecord (site_id, chain_seq, at, actor, device_id, device_time, action, entity_type, "
        "entity_id, before, after, reason, prev_hash, hash) "
        "SELECT %s, last.chain_seq + 1, %s, %s, NULL, NULL, %s, %s, %s, %s::json, %s::json, NULL, last.hash, "
        "encode(sha256(convert_to(last.hash || %s || (last.chain_seq + 1)::text || %s, 'UTF8')), 'hex') "
        "FROM (SELECT chain_seq, hash FROM auditrecord WHERE site_id = %s "
        "UNION ALL SELECT 0, %s ORDER BY chain_seq DESC LIMIT 1) AS last",
        (site_id, at, actor, action, entity_type, entity_id, _json(before_json), _json(after_json), prefix, suffix,
         site_id, GENESIS))


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))
