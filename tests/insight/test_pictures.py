"""The evidence pictures (issue 14): SVG drawn with the standard library, checked as XML."""
import xml.etree.ElementTree as ET
from decimal import Decimal

from sqlalchemy import select

from backflush.insight.control_limits import ControlWindow
from backflush.insight.genealogy_svg import LotView, genealogy_svg
from backflush.insight.pictures import order_control_charts, order_genealogy_svg
from backflush.reads.genealogy import LotLink, Tree
from models import WorkOrder
from tests.insight.chain import three_level_chain

SVG = "{http://www.w3.org/2000/svg}"


def lots_drawn(picture: str) -> dict[str, str]:
    root = ET.fromstring(picture)
    return {g.get("data-lot"): g.get("data-status") for g in root.iter(f"{SVG}g") if g.get("class") == "lot"}


def test_the_genealogy_picture_draws_every_level_with_each_lots_status(sessions):
    final = three_level_chain(sessions)
    with sessions() as s:
        picture = order_genealogy_svg(s, s.get(WorkOrder, final.id))
        middle = s.scalar(select(WorkOrder).where(WorkOrder.number == "WO-M"))
        from_the_middle = order_genealogy_svg(s, middle)
    assert lots_drawn(picture) == {"WO-F-OUT": "QUARANTINE", "WO-M-OUT": "RELEASED", "R1": "RELEASED",
                                   "R2": "RELEASED"}
    # from the intermediate lot: what went into it (left) and where it went (right), forward too
    assert lots_drawn(from_the_middle) == {"WO-M-OUT": "RELEASED", "R1": "RELEASED", "R2": "RELEASED",
                                           "WO-F-OUT": "QUARANTINE"}


def edges_drawn(picture: str) -> list:
    return [g for g in ET.fromstring(picture).iter(f"{SVG}g") if g.get("class") in ("edge", "edge reversed")]


def test_a_reversed_and_reposted_draw_is_one_solid_edge_of_what_stands(scenario):
    """Genealogy links a lot pair once per work order (issue 13): the re-post stands, so the edge does."""
    with scenario.plant.sessions() as s:
        picture = order_genealogy_svg(s, s.get(WorkOrder, scenario.orders[1].id))
    edges = edges_drawn(picture)
    assert [g.get("data-reversed") for g in edges] == ["false"]
    assert edges[0].find(f"{SVG}line").get("stroke-dasharray") is None


def test_a_reversed_edge_is_drawn_dashed_and_labelled():
    component = LotLink(from_lot_id=1, to_lot_id=2, work_order_id=7, quantity=Decimal("11.000"), uom="kg", level=1,
                        reversed=True, ledger_entry_ids=(5,))
    lots = {1: LotView("RM-1", "C", "RELEASED"), 2: LotView("FG-1", "FG", "QUARANTINE")}
    picture = genealogy_svg(root_lot_id=2, lots=lots, forward=None,
                            backward=Tree(root_lot_id=2, direction="BACKWARD", lot_ids=(2, 1), edges=(component,),
                                          truncated=False))
    [dashed] = edges_drawn(picture)
    assert dashed.get("data-reversed") == "true"
    assert dashed.find(f"{SVG}line").get("stroke-dasharray") == "6 4"
    assert dashed.find(f"{SVG}text").text == "11.000 kg reversed"


def test_the_control_chart_marks_the_one_signal_and_draws_the_limits(scenario):
    with scenario.plant.sessions() as s:
        charts = order_control_charts(s, s.get(WorkOrder, scenario.orders[-1].id), ControlWindow())
    root = ET.fromstring(charts["C"])
    points = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("point")]
    assert len(points) == 21
    assert [g.get("data-order") for g in points if g.get("class") == "point signal"] == ["WO-21"]
    assert {p.get("class") for p in root.iter(f"{SVG}polyline")} >= {"upper-limit", "mean", "lower-limit"}
    assert "WO-21: 1.25" in [g.find(f"{SVG}title").text for g in points][-1]
