"""A run only counts if the work was right: every trigger POSTED, balance == Σ ledger, nothing negative,
the audit chain intact — and the floor wrote the rows the server wrote, trigger for trigger."""
from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from functools import partial

import psycopg
from psycopg.types.json import set_json_loads
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from backflush.services.ledger import check_consistency
from bench.plant import POOLS
from bench.wrong_run import WrongRun
from kernel import audit


def check_posted(connection: psycopg.Connection, numbers: list[str], expected: int) -> None:
    outcomes = Counter(dict(connection.execute(
        "SELECT t.outcome, count(*) FROM trigger t JOIN workorder w ON w.id = t.work_order_id "
        "WHERE w.number = ANY(%s) GROUP BY t.outcome", (numbers,)).fetchall()))
    connection.commit()
    if outcomes != Counter({"POSTED": expected}):
        raise WrongRun(f"orders {numbers}: expected {expected} POSTED triggers, found {dict(outcomes)}")


def check_books(sessions: sessionmaker[Session]) -> None:
    """balance == Σ ledger for every (lot, location) (the project's own check), no negative balance or
    binding, and the audit chain verifies end to end."""
    with sessions() as session:
        problems = check_consistency(session)
        negative = session.execute(text(
            "SELECT (SELECT count(*) FROM balance WHERE quantity < 0), "
            "(SELECT count(*) FROM stagedlot WHERE remaining_quantity < 0)")).one()
        chain = audit.verify(session)
    if problems or any(negative) or not chain.ok:
        raise WrongRun(f"books wrong: {len(problems)} inconsistencies {problems[:3]}, negative balances/bindings "
                       f"{tuple(negative)}, audit chain ok={chain.ok} broken at seq {chain.first_broken_seq}")


# ---- the floor writes the server's rows ----------------------------------------------------------------------

TRIGGER_ROWS = """
WITH roles AS (
  SELECT lot.id, CASE WHEN lot.id = w.output_lot_id THEN 'OUTPUT'
                      WHEN split_part(lot.lot_number, '-', 1) = ANY(%(pools)s)
                      THEN substr(lot.lot_number, strpos(lot.lot_number, '-') + 1) ELSE lot.lot_number END AS role
  FROM lot, workorder w WHERE w.id = %(order)s),
ranked AS (SELECT t.*, row_number() OVER (ORDER BY t.id) AS n FROM trigger t WHERE t.work_order_id = %(order)s)
SELECT ranked.n,
  to_jsonb(ranked) - '{id,n,client_id,idempotency_key,payload_hash,work_order_id,received_at,posted_at,actor}'::text[]
    || jsonb_build_object('serials_is_sql_null', ranked.serials IS NULL,
                          'block_reasons_is_sql_null', ranked.block_reasons IS NULL),
  (SELECT jsonb_agg(to_jsonb(e) - '{id,lot_id,staged_lot_id,trigger_id,work_order_id,actor,created_at}'::text[]
                    || jsonb_build_object('lot', r.role, 'binding', (SELECT role FROM roles JOIN stagedlot s
                                                                     ON s.lot_id = roles.id WHERE s.id = e.staged_lot_id))
                    ORDER BY e.kind, e.bom_line_no, r.role)
   FROM ledgerentry e JOIN roles r ON r.id = e.lot_id WHERE e.trigger_id = ranked.id),
  (SELECT jsonb_agg(to_jsonb(g) - '{id,from_lot_id,to_lot_id,trigger_id,work_order_id,ledger_entry_id}'::text[]
                    || jsonb_build_object('from', f.role, 'to', t.role) ORDER BY f.role)
   FROM genealogyedge g JOIN roles f ON f.id = g.from_lot_id JOIN roles t ON t.id = g.to_lot_id
   WHERE g.trigger_id = ranked.id),
  (SELECT jsonb_agg(to_jsonb(x) - '{id,trigger_id,evaluated_at,actor}'::text[]
                    || jsonb_build_object('block_reasons_is_sql_null', x.block_reasons IS NULL) ORDER BY x.number)
   FROM triggerattempt x WHERE x.trigger_id = ranked.id),
  (SELECT jsonb_agg(to_jsonb(a) - '{seq,chain_seq,at,actor,entity_id,prev_hash,hash,request_id}'::text[]
                    || jsonb_build_object('before_is_sql_null', a.before IS NULL))
   FROM auditrecord a WHERE a.entity_type = 'trigger' AND a.entity_id = ranked.id::text)
FROM ranked WHERE ranked.n <= %(limit)s ORDER BY ranked.n"""


def trigger_rows(connection: psycopg.Connection, work_order_id: int, limit: int) -> list[tuple]:
    """Each trigger's rows with ids, clocks and actors left out and lots named by their role (e.g. C5L-01-A);
    quantities as Decimals, so "0.250" and "0.25" differ as they do in the ledger."""
    cursor = connection.cursor()
    set_json_loads(partial(json.loads, parse_float=Decimal), cursor)
    rows = cursor.execute(TRIGGER_ROWS, {"order": work_order_id, "limit": limit, "pools": list(POOLS)}).fetchall()
    connection.commit()
    return [tuple(row[1:]) for row in rows]


def check_rows_match(connection: psycopg.Connection, *, served_order: int, floor_order: int) -> int:
    """The first triggers of a served and a floor order wrote the same rows; how many were compared."""
    count = connection.execute("SELECT least((SELECT count(*) FROM trigger WHERE work_order_id = %s), "
                               "(SELECT count(*) FROM trigger WHERE work_order_id = %s))",
                               (served_order, floor_order)).fetchone()[0]
    served, floor = trigger_rows(connection, served_order, count), trigger_rows(connection, floor_order, count)
    for n, (mine, theirs) in enumerate(zip(served, floor, strict=True), start=1):
        if mine != theirs:
            raise WrongRun(f"trigger {n}: the floor's rows differ from the server's:\nserver {mine}\nfloor  {theirs}")
    return count
