"""Genealogy-shaped history, generated inside PostgreSQL (INSERT … SELECT over generate_series), fast.

Master data (three items, two approved BOMs) is made through the API; lots, work orders, ledger rows
and edges are generated with their foreign keys intact:

- the chain: one finished lot whose backward tree is `levels` deep and holds `lots` lots, each lot
  made by its own work order from `fan_out` lots of the level below (the last level partly filled);
- the recall history: raw lots → intermediates (10 raw lots each) → finished lots (10 intermediates
  each), half of `edges` per layer — whatever the trigger runs added, so the recall's shape is the same
  in every run — plus RECEIPT rows until the ledger holds `ledger_rows` rows. A raw lot goes into 5
  intermediates, each into 10 finished lots: a recall of 55 edges (`recall_edges`).

It is genealogy, not a balanced ledger (no balances are written): the books are checked before it runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import psycopg

from bench.http_api import ADMIN_PASSWORD, GraphQL
from bench.plant import SITE, batch

RAW, INTERMEDIATE, FINISHED = "GEN-RAW", "GEN-INT", "GEN-FG"
ACTOR = "bench:generator"
PER_INTERMEDIATE = PER_FINISHED = 10  # input lots per output lot in the recall history


@dataclass(frozen=True)
class Ids:
    site: int
    stock: int
    wip: int
    finished: int
    items: dict[str, int]
    boms: dict[str, int]


def chain_levels(lots: int, levels: int) -> tuple[int, list[int]]:
    """(fan-out, lots per level below the root): the smallest fan-out whose full tree holds `lots` lots."""
    fan_out = 2
    while sum(fan_out ** k for k in range(1, levels + 1)) < lots - 1:
        fan_out += 1
    sizes, left = [], lots - 1
    for k in range(1, levels + 1):
        sizes.append(min(fan_out ** k, left))
        left -= sizes[-1]
    return fan_out, [size for size in sizes if size]


def create_master_data(api: GraphQL) -> None:
    batch(api, "createItem", "CreateItemInput", [
        {"code": RAW, "name": "Generated raw material", "baseUom": "kg", "precision": 3},
        {"code": INTERMEDIATE, "name": "Generated intermediate", "baseUom": "kg", "precision": 3},
        {"code": FINISHED, "name": "Generated finished good", "baseUom": "ea", "precision": 0}], "item { id }")
    for product, component in ((INTERMEDIATE, RAW), (FINISHED, INTERMEDIATE)):
        bom = api("mutation ($input: CreateBomInput!) { createBom(input: $input) { bom { id } userErrors { code message } } }",
                  input={"itemCode": product, "lines": [{"lineNo": 1, "componentCode": component, "quantity": "1",
                                                          "uom": "kg"}]})["createBom"]["bom"]["id"]
        api("mutation ($input: ApproveInput!) { approveBom(input: $input) { bom { status } userErrors { code message } } }",
            input={"id": bom, "signature": {"meaning": "Approved", "password": ADMIN_PASSWORD}})


def look_up(connection: psycopg.Connection) -> Ids:
    site = connection.execute("SELECT id FROM site WHERE code = %s", (SITE,)).fetchone()[0]
    locations = dict(connection.execute("SELECT kind, id FROM location WHERE site_id = %s", (site,)).fetchall())
    items = dict(connection.execute("SELECT code, id FROM item WHERE code = ANY(%s)",
                                    ([RAW, INTERMEDIATE, FINISHED],)).fetchall())
    boms = dict(connection.execute("SELECT i.code, b.id FROM bom b JOIN item i ON i.id = b.item_id "
                                   "WHERE i.code = ANY(%s)", ([INTERMEDIATE, FINISHED],)).fetchall())
    return Ids(site, locations["STOCK"], locations["WIP"], locations["FINISHED"], items, boms)


def _lots(connection, ids: Ids, item: str, prefix: str, count: int) -> None:
    connection.execute(
        "INSERT INTO lot (item_id, site_id, lot_number, status, received_at) "
        "SELECT %s, %s, %s || g, 'RELEASED', now() FROM generate_series(0, %s - 1) g",
        (ids.items[item], ids.site, prefix, count))


def _orders(connection, ids: Ids, item: str, bom_item: str, lot_prefix: str, order_prefix: str, count: int) -> None:
    """One CLOSED work order per lot `lot_prefix || n`, which it made."""
    connection.execute(
        "INSERT INTO workorder (number, item_id, site_id, bom_id, quantity, overproduction_tolerance_percent, status, "
        "wip_location_id, output_location_id, output_lot_id, is_rework, created_at) "
        "SELECT %s || g, lot.item_id, %s, %s, 1, 0, 'CLOSED', %s, %s, lot.id, false, now() "
        "FROM generate_series(0, %s - 1) g JOIN lot ON lot.item_id = %s AND lot.lot_number = %s || g",
        (order_prefix, ids.site, ids.boms[bom_item], ids.wip, ids.finished, count, ids.items[item], lot_prefix))


def _consumptions(connection, ids: Ids, *, count: int, inputs: tuple[str, str, int], order_of: tuple[str, str]) -> None:
    """`count` issues, each with its edge: issue e draws input lot `inputs`-prefix || (e % size) into the
    order `order_of`-prefix || expression(e), which made the lot the edge points to."""
    input_item, input_prefix, input_size = inputs
    order_prefix, order_index = order_of
    connection.execute(
        "WITH issued AS ("
        "  INSERT INTO ledgerentry (kind, site_id, lot_id, item_id, from_location_id, quantity, uom, work_order_id, "
        "                           bom_line_no, actor, created_at) "
        "  SELECT 'BACKFLUSH_ISSUE', %(site)s, lot.id, lot.item_id, %(wip)s, 1, 'kg', wo.id, 1, %(actor)s, now() "
        "  FROM generate_series(0, %(count)s - 1) e "
        "  JOIN lot ON lot.item_id = %(item)s AND lot.lot_number = %(input_prefix)s || (e %% %(input_size)s) "
        f" JOIN workorder wo ON wo.number = %(order_prefix)s || ({order_index}) "
        "  RETURNING id, lot_id, work_order_id, quantity) "
        "INSERT INTO genealogyedge (from_lot_id, to_lot_id, quantity, uom, work_order_id, ledger_entry_id, reversed) "
        "SELECT issued.lot_id, wo.output_lot_id, issued.quantity, 'kg', issued.work_order_id, issued.id, false "
        "FROM issued JOIN workorder wo ON wo.id = issued.work_order_id",
        {"site": ids.site, "wip": ids.wip, "actor": ACTOR, "count": count, "item": ids.items[input_item],
         "input_prefix": input_prefix, "input_size": input_size, "order_prefix": order_prefix})


def generate_chain(connection: psycopg.Connection, ids: Ids, *, lots: int, levels: int) -> tuple[str, int]:
    """The chain's root lot number, and its edge count."""
    fan_out, sizes = chain_levels(lots, levels)
    _lots(connection, ids, FINISHED, "GEN-C0-", 1)
    for level, size in enumerate(sizes, start=1):
        item = RAW if level == len(sizes) else INTERMEDIATE
        _lots(connection, ids, item, f"GEN-C{level}-", size)
        parent_item = FINISHED if level == 1 else INTERMEDIATE
        _orders(connection, ids, parent_item, FINISHED, f"GEN-C{level - 1}-", f"GEN-WC{level - 1}-",
                1 if level == 1 else sizes[level - 2])
        _consumptions(connection, ids, count=size, inputs=(item, f"GEN-C{level}-", size),
                      order_of=(f"GEN-WC{level - 1}-", f"e / {fan_out}"))
    connection.commit()
    return "GEN-C0-0", sum(sizes)


def recall_edges(*, raw: int, intermediates: int, finished: int) -> int:
    """How many edges the forward tree of raw lot 0 holds: issue e draws raw lot e % raw into intermediate
    e // 10, and finished-layer issue e draws intermediate e % intermediates."""
    reached = {e // PER_INTERMEDIATE for e in range(0, intermediates * PER_INTERMEDIATE, raw)}
    return len(reached) + sum(len(range(i, finished * PER_FINISHED, intermediates)) for i in reached)


def generate_recall_history(connection: psycopg.Connection, ids: Ids, *, edges: int,
                            ledger_rows: int) -> tuple[str, int]:
    """`edges` more edges, and the ledger topped up to `ledger_rows` rows; the recall probe's raw lot number
    and the edge count of its forward tree."""
    have_rows = connection.execute("SELECT count(*) FROM ledgerentry").fetchone()[0]
    layer = max(PER_INTERMEDIATE * PER_FINISHED, edges // 2)
    raw, intermediates = max(PER_INTERMEDIATE, layer // 5), layer // PER_INTERMEDIATE
    finished = layer // PER_FINISHED
    _lots(connection, ids, RAW, "GEN-R-", raw)
    _lots(connection, ids, INTERMEDIATE, "GEN-I-", intermediates)
    _lots(connection, ids, FINISHED, "GEN-F-", finished)
    _orders(connection, ids, INTERMEDIATE, INTERMEDIATE, "GEN-I-", "GEN-WI-", intermediates)
    _orders(connection, ids, FINISHED, FINISHED, "GEN-F-", "GEN-WF-", finished)
    _consumptions(connection, ids, count=intermediates * PER_INTERMEDIATE, inputs=(RAW, "GEN-R-", raw),
                  order_of=("GEN-WI-", f"e / {PER_INTERMEDIATE}"))
    _consumptions(connection, ids, count=finished * PER_FINISHED, inputs=(INTERMEDIATE, "GEN-I-", intermediates),
                  order_of=("GEN-WF-", f"e / {PER_FINISHED}"))
    filler = ledger_rows - have_rows - intermediates * PER_INTERMEDIATE - finished * PER_FINISHED
    connection.execute(
        "INSERT INTO ledgerentry (kind, site_id, lot_id, item_id, to_location_id, quantity, uom, actor, created_at) "
        "SELECT 'RECEIPT', %s, lot.id, lot.item_id, %s, 1, 'kg', %s, now() "
        "FROM generate_series(0, %s - 1) g JOIN lot ON lot.item_id = %s AND lot.lot_number = 'GEN-R-' || (g %% %s)",
        (ids.site, ids.stock, ACTOR, max(0, filler), ids.items[RAW], raw))
    connection.commit()
    connection.execute("ANALYZE lot; ANALYZE workorder; ANALYZE ledgerentry; ANALYZE genealogyedge")
    connection.commit()
    return "GEN-R-0", recall_edges(raw=raw, intermediates=intermediates, finished=finished)
