"""Genealogy as a client sees it (request latency over HTTP), as the server took to answer it (its Server-Timing
header, api/request_ids.py: arrival to response start, the sending of the answer not included) and as the
domain computes it (in-process)."""
from __future__ import annotations

import re
import statistics
import time

import psycopg
from sqlalchemy.orm import Session, sessionmaker

from backflush.reads.genealogy import backward_tree, forward_tree
from bench.http_api import GraphQL
from bench.wrong_run import WrongRun

GENEALOGY = """query ($lot: ID!, $direction: GenealogyDirection!) {
  genealogy(lotId: $lot, direction: $direction) {
    truncated lots { id lotNumber } edges { level quantity uom from { id } to { id } workOrder { number } } } }"""
LOT = "query ($item: String!, $lot: String!) { lot(itemCode: $item, lotNumber: $lot) { id } }"
WALKS = {"BACKWARD": backward_tree, "FORWARD": forward_tree}
WARM_UP = 3
SERVER_TIMING = re.compile(r"app;dur=(\d+(?:\.\d+)?)")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def probe(api: GraphQL, sessions: sessionmaker[Session], connection: psycopg.Connection, *, item: str,
          lot_number: str, direction: str, samples: int, expected_edges: int) -> dict:
    """p50/p99 of the genealogy request for one lot, and of the domain's own walk; the tree must be whole."""
    global_id = api(LOT, item=item, lot=lot_number)["lot"]["id"]
    pk = connection.execute("SELECT lot.id FROM lot JOIN item ON item.id = lot.item_id "
                            "WHERE item.code = %s AND lot.lot_number = %s", (item, lot_number)).fetchone()[0]
    http, server, body = [], [], None
    for n in range(WARM_UP + samples):
        started = time.perf_counter()
        response = api.post(GENEALOGY, {"lot": global_id, "direction": direction})
        elapsed = 1000 * (time.perf_counter() - started)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise WrongRun(f"genealogy of {lot_number} failed: {response.status_code} {str(body)[:300]}")
        if n >= WARM_UP:
            http.append(elapsed)
            server.append(_server_ms(response.headers.get("server-timing", "")))
    tree = body["data"]["genealogy"]
    if len(tree["edges"]) != expected_edges or tree["truncated"]:
        raise WrongRun(f"{direction} tree of {lot_number}: {len(tree['edges'])} edges (truncated={tree['truncated']}), "
                       f"expected {expected_edges}")
    domain = _domain_times(sessions, WALKS[direction], pk, samples)
    return {"direction": direction, "lot": lot_number, "lots": len(tree["lots"]), "edges": len(tree["edges"]),
            "samples": samples, "http_p50_ms": round(statistics.median(http), 2),
            "http_p99_ms": round(_percentile(http, 99), 2), "server_p50_ms": round(statistics.median(server), 2),
            "server_p99_ms": round(_percentile(server, 99), 2), "domain_p50_ms": round(statistics.median(domain), 2)}


def _server_ms(header: str) -> float:
    timing = SERVER_TIMING.fullmatch(header)
    if timing is None:
        raise WrongRun(f"the genealogy answer has no server time: Server-Timing {header!r}")
    return float(timing.group(1))


def _domain_times(sessions: sessionmaker[Session], walk, pk: int, samples: int) -> list[float]:
    times = []
    with sessions() as session:
        for n in range(WARM_UP + samples):
            started = time.perf_counter()
            walk(session, root_lot_id=pk)
            if n >= WARM_UP:
                times.append(1000 * (time.perf_counter() - started))
            session.rollback()
    return times
