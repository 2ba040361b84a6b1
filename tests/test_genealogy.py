"""Genealogy trees and completeness (SPEC §5), on rows written straight into a migrated database."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import strawberry
from sqlalchemy import event
from strawberry.schema.config import StrawberryConfig

from api import ids
from api.context import Context
from api.loaders import Loaders
from api.queries_genealogy import GenealogyQueries
from api.scalars import SCALAR_MAP
from auth.principal import Principal
from backflush.reads.genealogy import backward_tree, bounded_depth, forward_tree, genealogy_completeness
from kernel.settings import Settings
from models import Bom, BomLine, GenealogyEdge, Item, LedgerEntry, Location, Lot, Site, Trigger, WorkOrder


class Floor:
    """Lots, orders and consumptions in the shop floor's words; each call is its own committed write."""

    def __init__(self, sessions, site_code: str = "P1"):
        self.sessions = sessions
        self.items: dict[str, int] = {}
        self.lot_items: dict[int, int] = {}
        self.outputs: dict[int, int] = {}  # work order → output lot
        self.site_id = self.add(Site(code=site_code, name=f"Plant {site_code}"))
        self.location_id = self.add(Location(site_id=self.site_id, code="WIP", kind="WIP"))

    def add(self, row) -> int:
        with self.sessions() as s:
            s.add(row)
            s.commit()
            return row.id

    def lot(self, item_code: str, number: str) -> int:
        if item_code not in self.items:
            self.items[item_code] = self.add(Item(code=item_code, name=item_code, base_uom="kg", precision=3))
        lot_id = self.add(Lot(item_id=self.items[item_code], site_id=self.site_id, lot_number=number))
        self.lot_items[lot_id] = self.items[item_code]
        return lot_id

    def bom(self, output_lot: int, methods: dict[int, str] | None = None) -> int:
        bom_id = self.add(Bom(item_id=self.lot_items[output_lot], version=len(self.outputs) + 1, status="ACTIVE"))
        for line_no, method in (methods or {}).items():
            self.add(BomLine(bom_id=bom_id, line_no=line_no, component_id=self.lot_items[output_lot],
                             quantity=Decimal(1), uom="kg", posting_method=method))
        return bom_id

    def order(self, number: str, output_lot: int, methods: dict[int, str] | None = None) -> int:
        work_order_id = self.add(WorkOrder(
            number=number, item_id=self.lot_items[output_lot], site_id=self.site_id, bom_id=self.bom(output_lot, methods),
            quantity=Decimal(100), status="RELEASED", wip_location_id=self.location_id,
            output_location_id=self.location_id, output_lot_id=output_lot))
        self.outputs[work_order_id] = output_lot
        return work_order_id

    def trigger(self, work_order_id: int, outcome: str = "POSTED", reversed: bool = False) -> int:
        return self.add(Trigger(
            client_id="line", idempotency_key=f"k{work_order_id}-{outcome}-{reversed}", payload_hash="0" * 64,
            site_id=self.site_id, work_order_id=work_order_id, operation_seq=10, kind="OPERATION_COMPLETE",
            good_quantity=Decimal(10), outcome=outcome, reversed=reversed, actor="client:line"))

    def consume(self, lot_id: int, *, into: int, quantity: str, line_no: int = 1, kind: str = "BACKFLUSH_ISSUE",
                reversed: bool = False) -> int:
        """`lot_id` flushed into work order `into`: a ledger issue and the genealogy edge it left."""
        entry_id = self.add(LedgerEntry(
            kind=kind, site_id=self.site_id, lot_id=lot_id, item_id=self.lot_items[lot_id], quantity=Decimal(quantity),
            uom="kg", work_order_id=into, bom_line_no=line_no, actor="client:line"))
        return self.add(GenealogyEdge(from_lot_id=lot_id, to_lot_id=self.outputs[into], quantity=Decimal(quantity),
                                      uom="kg", work_order_id=into, ledger_entry_id=entry_id, reversed=reversed))


@pytest.fixture
def floor(sessions):
    return Floor(sessions)


@pytest.fixture
def chain(floor):
    """API and excipient → granulate → tablets → packed: three levels below the packed lot."""
    lots = {name: floor.lot(name, f"{name}-1") for name in ("API", "EXC", "GRAN", "TAB", "PACK")}
    orders = {name: floor.order(f"WO-{name}", lots[name]) for name in ("GRAN", "TAB", "PACK")}
    edges = {
        "API>GRAN": floor.consume(lots["API"], into=orders["GRAN"], quantity="10.000"),
        "EXC>GRAN": floor.consume(lots["EXC"], into=orders["GRAN"], quantity="40.000"),
        "GRAN>TAB": floor.consume(lots["GRAN"], into=orders["TAB"], quantity="49.500"),
        "TAB>PACK": floor.consume(lots["TAB"], into=orders["PACK"], quantity="48.000"),
    }
    return lots, orders, edges


def walk(sessions, tree, lot_id: int, **options):
    with sessions() as s:
        return tree(s, root_lot_id=lot_id, **options)


def shape(tree) -> list[tuple[int, int, int]]:
    return [(e.from_lot_id, e.to_lot_id, e.level) for e in tree.edges]


def test_the_backward_tree_of_a_packed_lot_shows_all_three_levels_with_their_quantities(sessions, chain):
    lots, orders, edges = chain

    tree = walk(sessions, backward_tree, lots["PACK"])

    assert shape(tree) == [(lots["TAB"], lots["PACK"], 1), (lots["GRAN"], lots["TAB"], 2),
                           (lots["API"], lots["GRAN"], 3), (lots["EXC"], lots["GRAN"], 3)]
    assert [e.quantity for e in tree.edges] == [Decimal("48"), Decimal("49.5"), Decimal("10"), Decimal("40")]
    assert [e.work_order_id for e in tree.edges] == [orders["PACK"], orders["TAB"], orders["GRAN"], orders["GRAN"]]
    assert tree.lot_ids == (lots["PACK"], lots["TAB"], lots["GRAN"], lots["API"], lots["EXC"])
    assert tree.direction == "BACKWARD" and not tree.truncated


def test_the_forward_tree_of_the_api_lot_reaches_the_packed_lot(sessions, chain):
    lots, _, _ = chain

    tree = walk(sessions, forward_tree, lots["API"])

    assert shape(tree) == [(lots["API"], lots["GRAN"], 1), (lots["GRAN"], lots["TAB"], 2),
                           (lots["TAB"], lots["PACK"], 3)]
    assert tree.lot_ids == (lots["API"], lots["GRAN"], lots["TAB"], lots["PACK"])


@pytest.mark.parametrize("tree, root", [(backward_tree, "PACK"), (forward_tree, "API")])
def test_each_tree_is_one_sql_statement(sessions, engine, chain, tree, root):
    lots, _, _ = chain
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_):
        statements.append(statement)

    with sessions() as s:
        s.connection()  # the transaction's BEGIN is not the tree's work
        event.listen(engine, "before_cursor_execute", record)
        try:
            tree(s, root_lot_id=lots[root])
        finally:
            event.remove(engine, "before_cursor_execute", record)

    assert len(statements) == 1, statements
    assert "RECURSIVE" in statements[0].upper()


def test_a_tree_cut_at_max_depth_says_it_was_truncated(sessions, chain):
    lots, _, _ = chain

    cut = walk(sessions, backward_tree, lots["PACK"], max_depth=2)
    whole = walk(sessions, backward_tree, lots["PACK"], max_depth=3)

    assert shape(cut) == [(lots["TAB"], lots["PACK"], 1), (lots["GRAN"], lots["TAB"], 2)]
    assert cut.lot_ids == (lots["PACK"], lots["TAB"], lots["GRAN"]) and cut.truncated
    assert len(whole.edges) == 4 and not whole.truncated


def test_reversed_edges_are_flagged_and_left_out_with_what_hangs_below_them_on_request(sessions, floor):
    packed, tablets, granulate = floor.lot("PACK", "P-1"), floor.lot("TAB", "T-1"), floor.lot("GRAN", "G-1")
    api_lot = floor.lot("API", "A-1")
    pack, tab, gran = floor.order("WO-P", packed), floor.order("WO-T", tablets), floor.order("WO-G", granulate)
    floor.consume(tablets, into=pack, quantity="5")
    floor.consume(granulate, into=tab, quantity="7", reversed=True)
    floor.consume(api_lot, into=gran, quantity="3")

    everything = walk(sessions, backward_tree, packed)
    live = walk(sessions, backward_tree, packed, include_reversed=False)

    assert [e.reversed for e in everything.edges] == [False, True, False]
    assert shape(live) == [(tablets, packed, 1)] and live.lot_ids == (packed, tablets)


def test_a_lot_reached_by_a_reversed_and_a_reposted_edge_stays_in_the_live_tree(sessions, floor):
    tablets, granulate, api_lot = floor.lot("TAB", "T-1"), floor.lot("GRAN", "G-1"), floor.lot("API", "A-1")
    tab, gran = floor.order("WO-T", tablets), floor.order("WO-G", granulate)
    floor.consume(granulate, into=tab, quantity="7", reversed=True)
    floor.consume(granulate, into=tab, quantity="6")
    floor.consume(api_lot, into=gran, quantity="3")

    live = walk(sessions, backward_tree, tablets, include_reversed=False)

    assert (live.edges[0].quantity, live.edges[0].reversed, len(live.edges[0].ledger_entry_ids)) == (Decimal("6"), False, 1)
    assert shape(live) == [(granulate, tablets, 1), (api_lot, granulate, 2)]


def test_postings_of_one_lot_into_one_order_make_one_edge_summing_what_was_not_reversed(sessions, floor):
    tablets, granulate = floor.lot("TAB", "T-1"), floor.lot("GRAN", "G-1")
    tab = floor.order("WO-T", tablets)
    floor.consume(granulate, into=tab, quantity="7", reversed=True)
    floor.consume(granulate, into=tab, quantity="6")
    floor.consume(granulate, into=tab, quantity="1.5")

    [edge] = walk(sessions, backward_tree, tablets).edges

    assert (edge.from_lot_id, edge.to_lot_id, edge.quantity, edge.reversed) == (granulate, tablets, Decimal("7.5"), False)
    assert len(edge.ledger_entry_ids) == 3


def test_an_edge_whose_every_posting_was_reversed_is_reversed_with_what_they_had_taken(sessions, floor):
    tablets, granulate = floor.lot("TAB", "T-1"), floor.lot("GRAN", "G-1")
    tab = floor.order("WO-T", tablets)
    floor.consume(granulate, into=tab, quantity="7", reversed=True)
    floor.consume(granulate, into=tab, quantity="2", reversed=True)

    [edge] = walk(sessions, backward_tree, tablets).edges

    assert (edge.quantity, edge.reversed) == (Decimal("9"), True)


def test_a_lot_split_into_two_orders_that_merge_later_shows_each_edge_once(sessions, floor):
    a, b, c, d, f = (floor.lot(code, f"{code}-1") for code in ("A", "B", "C", "D", "F"))
    to_b, to_c, to_d, to_f = (floor.order(f"WO-{n}", lot) for n, lot in (("B", b), ("C", c), ("D", d), ("F", f)))
    for source, order in ((a, to_b), (a, to_c), (b, to_d), (c, to_d), (d, to_f)):
        floor.consume(source, into=order, quantity="1")

    forward = walk(sessions, forward_tree, a)
    backward = walk(sessions, backward_tree, f)

    assert shape(forward) == [(a, b, 1), (a, c, 1), (b, d, 2), (c, d, 2), (d, f, 3)]
    assert forward.lot_ids == (a, b, c, d, f)
    assert shape(backward) == [(d, f, 1), (b, d, 2), (c, d, 2), (a, b, 3), (a, c, 3)]
    assert backward.lot_ids == (f, d, b, c, a)


def test_paths_of_unequal_length_place_an_edge_at_its_shallowest_level(sessions, floor):
    a, b, d = floor.lot("A", "A-1"), floor.lot("B", "B-1"), floor.lot("D", "D-1")
    to_b, to_d = floor.order("WO-B", b), floor.order("WO-D", d)
    floor.consume(a, into=to_b, quantity="1")
    floor.consume(b, into=to_d, quantity="1")
    floor.consume(a, into=to_d, quantity="1")

    tree = walk(sessions, forward_tree, a, max_depth=1)

    assert shape(tree) == [(a, b, 1), (a, d, 1)]
    assert tree.truncated  # b → d lies one level further


def test_a_long_run_of_diamonds_is_walked_without_enumerating_every_path(sessions, floor):
    top = floor.lot("L", "L-0")
    for n in range(1, 21):  # 2**20 distinct paths, 80 edges
        left, right, joined = floor.lot("L", f"L-{n}a"), floor.lot("L", f"L-{n}b"), floor.lot("L", f"L-{n}")
        into_left, into_right, into_joined = (floor.order(f"WO-{n}{s}", lot) for s, lot in
                                              (("a", left), ("b", right), ("j", joined)))
        for source, order in ((top, into_left), (top, into_right), (left, into_joined), (right, into_joined)):
            floor.consume(source, into=order, quantity="1")
        top = joined

    tree = walk(sessions, backward_tree, top, max_depth=50)

    assert len(tree.edges) == 80 and len(tree.lot_ids) == 61 and not tree.truncated
    assert max(e.level for e in tree.edges) == 40


def test_a_cycle_in_the_records_ends_at_the_depth_bound_without_claiming_truncation(sessions, floor):
    a, b = floor.lot("A", "A-1"), floor.lot("B", "B-1")
    to_a, to_b = floor.order("WO-A", a), floor.order("WO-B", b)
    floor.consume(a, into=to_b, quantity="1")
    floor.consume(b, into=to_a, quantity="1")

    tree = walk(sessions, backward_tree, a)

    assert shape(tree) == [(b, a, 1), (a, b, 2)]
    assert tree.lot_ids == (a, b) and not tree.truncated


@pytest.mark.parametrize("asked, used", [(None, 10), (0, 1), (3, 3), (50, 50), (500, 50)])
def test_max_depth_defaults_to_ten_and_is_held_within_one_to_fifty(asked, used):
    assert bounded_depth(asked) == used


def test_an_output_lot_counts_as_complete_when_every_flushed_line_has_a_live_component_lot(sessions, floor):
    made, component = floor.lot("FG", "FG-1"), floor.lot("C", "C-1")
    order = floor.order("WO-1", made, {1: "BACKFLUSH", 2: "SCAN_ISSUE", 3: "FORWARD_ISSUE"})
    floor.trigger(order)
    floor.consume(component, into=order, quantity="1", line_no=1)
    floor.consume(component, into=order, quantity="1", line_no=2, kind="SCAN_ISSUE")

    with sessions() as s:
        assert genealogy_completeness(s) == Decimal("100.00")


def test_a_missing_or_reversed_link_makes_an_output_lot_incomplete(sessions, floor):
    component = floor.lot("C", "C-1")
    orders = [floor.order(f"WO-{n}", floor.lot("FG", f"FG-{n}"), {1: "BACKFLUSH", 2: "BACKFLUSH"}) for n in range(3)]
    for order in orders:
        floor.trigger(order)
        floor.consume(component, into=order, quantity="1", line_no=1)
    floor.consume(component, into=orders[0], quantity="1", line_no=2)
    floor.consume(component, into=orders[1], quantity="1", line_no=2, reversed=True)

    with sessions() as s:
        assert genealogy_completeness(s) == Decimal("33.33")


def test_orders_without_a_live_posted_trigger_and_other_sites_are_not_counted(sessions, floor):
    component = floor.lot("C", "C-1")
    complete = floor.order("WO-1", floor.lot("FG", "FG-1"), {1: "BACKFLUSH"})
    floor.trigger(complete)
    floor.consume(component, into=complete, quantity="1")
    floor.trigger(floor.order("WO-2", floor.lot("FG", "FG-2"), {1: "BACKFLUSH"}), outcome="BLOCKED")
    floor.trigger(floor.order("WO-3", floor.lot("FG", "FG-3"), {1: "BACKFLUSH"}), reversed=True)

    with sessions() as s:
        assert genealogy_completeness(s) == Decimal("100.00")
        assert genealogy_completeness(s, site_ids=[floor.site_id + 1]) == Decimal("100.00")


GENEALOGY = """
query ($lot: ID!, $direction: GenealogyDirection!, $depth: Int, $reversed: Boolean!) {
  genealogy(lotId: $lot, direction: $direction, maxDepth: $depth, includeReversed: $reversed) {
    root { lotNumber } direction truncated lots { lotNumber }
    edges { from { lotNumber } to { lotNumber } quantity uom level reversed workOrder { number } }
  }
}"""


def ask(sessions, lot_id: int, *, sites=("*",), scopes=("genealogy:read",), direction="BACKWARD", **extra):
    schema = strawberry.Schema(query=GenealogyQueries, config=StrawberryConfig(scalar_map=SCALAR_MAP))
    principal = Principal(subject="client:qa", name="qa", kind="client", scopes=frozenset(scopes), sites=frozenset(sites))
    context = Context(sessions=sessions, principal=principal, settings=Settings(), loaders=Loaders(sessions))
    variables = {"lot": ids.encode("Lot", lot_id), "direction": direction, "depth": None, "reversed": True, **extra}
    return asyncio.run(schema.execute(GENEALOGY, variable_values=variables, context_value=context))


def test_the_genealogy_query_answers_nodes_and_edges_for_a_visible_lot(sessions, chain):
    lots, _, _ = chain

    result = ask(sessions, lots["PACK"], sites=("P1",), depth=2)

    assert result.errors is None
    tree = result.data["genealogy"]
    assert tree["root"] == {"lotNumber": "PACK-1"} and tree["truncated"] and tree["direction"] == "BACKWARD"
    assert [lot["lotNumber"] for lot in tree["lots"]] == ["PACK-1", "TAB-1", "GRAN-1"]
    assert tree["edges"][1] == {"from": {"lotNumber": "GRAN-1"}, "to": {"lotNumber": "TAB-1"}, "quantity": "49.500",
                                "uom": "kg", "level": 2, "reversed": False, "workOrder": {"number": "WO-TAB"}}


@pytest.mark.parametrize("depth", [1, None])
def test_the_genealogy_answer_is_three_statements_whatever_the_trees_size(sessions, engine, chain, depth):
    """The root lot, the walk carrying the lots it reaches, the work orders: not a statement per level or lot."""
    lots, _, _ = chain
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = ask(sessions, lots["PACK"], depth=depth)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert result.errors is None
    assert len(result.data["genealogy"]["edges"]) == (1 if depth == 1 else 4)
    assert len(statements) == 3, statements
    assert "RECURSIVE" in statements[1].upper() and " lot " in statements[1].lower()


@pytest.mark.parametrize("lot, sites", [("known", ("OTHER",)), ("unknown", ("*",))])
def test_a_lot_outside_the_callers_sites_or_unknown_is_not_found(sessions, chain, lot, sites):
    lots, _, _ = chain

    result = ask(sessions, lots["PACK"] if lot == "known" else 9999, sites=sites)

    assert [e.extensions for e in result.errors] == [{"code": "NOT_FOUND"}]


def test_the_genealogy_query_needs_the_genealogy_read_scope(sessions, chain):
    result = ask(sessions, chain[0]["PACK"], scopes=("production:read",))

    assert [e.extensions for e in result.errors] == [{"code": "FORBIDDEN"}]
