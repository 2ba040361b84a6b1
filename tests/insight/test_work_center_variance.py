"""Usage variance by work center (SPEC §9, issue 14): a line's variance belongs to the work center of
the operation that consumes it.

WO-1 mixes at MIX-01 (op 10: 1 kg C per unit) and packs at PACK-01 (op 20: 1 bottle per unit). Op 10
reports 10 good and 1 scrap (11.000 kg C issued); op 20 reports 10 good (10 bottles).
  MIX-01 / C:   standard 10 × 1 = 10.000, actual 11.000, usage +1.000, 10.00 %
  PACK-01 / BT: standard 10, actual 10, usage 0, 0.00 %
"""
from decimal import Decimal

from backflush.reads.metrics import backflush_metrics
from backflush.services.closing import close_work_order
from backflush.services.work_orders import OperationSpec
from tests.builders import Plant, line, post, qa_user, trigger

D = Decimal


def test_usage_variance_is_broken_down_by_the_work_center_of_the_consuming_operation(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("BT", "ea", 0)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1", operation_seq=10), line(2, "BT", "1", uom="ea", operation_seq=20)])
    c, bottles = plant.receive("C", "C-1", "11.000"), plant.receive("BT", "BT-1", "10")
    order = plant.work_order("WO-1", "FG", quantity="10", operations=[
        OperationSpec(seq=10, name="Mix", work_center="MIX-01"), OperationSpec(seq=20, name="Pack", work_center="PACK-01")])
    plant.stage(order, c, "11.000")
    plant.stage(order, bottles, "10")
    assert post(plant, trigger(order, "10", scrap="1", operation_seq=10)).trigger.outcome == "POSTED"
    assert post(plant, trigger(order, "10", operation_seq=20)).trigger.outcome == "POSTED"
    plant.run(close_work_order, work_order_id=order.id)
    with sessions() as s:
        rows = backflush_metrics(s, plant.principal, since=None, until=None).usage_variance_by_work_center
    assert [(r.work_center, r.item.code, r.standard_quantity, r.actual_quantity, r.usage_variance, r.variance_percent)
            for r in rows] == [("MIX-01", "C", D("10.000"), D("11.000"), D("1.000"), D("10.00")),
                               ("PACK-01", "BT", D("10"), D("10"), D("0"), D("0.00"))]


def test_the_scenario_s_single_operation_names_no_work_center(scenario):
    with scenario.plant.sessions() as s:
        rows = backflush_metrics(s, scenario.plant.principal, since=None, until=None).usage_variance_by_work_center
    assert [(r.work_center, r.item.code, r.standard_quantity, r.actual_quantity, r.usage_variance) for r in rows] == [
        (None, "C", D("204.000"), D("215.000"), D("11.000"))]
