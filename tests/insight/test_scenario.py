"""The seeded insight scenario is what its docstring says it is, before any figure is computed from it."""
from decimal import Decimal

from sqlalchemy import select

from models import ComponentVariance, Reversal, Trigger, WorkOrder

D = Decimal


def test_twenty_one_orders_close_with_the_usage_the_scenario_states(scenario):
    with scenario.plant.sessions() as s:
        closed = s.scalars(select(WorkOrder.number).where(WorkOrder.status == "CLOSED").order_by(WorkOrder.closed_at,
                                                                                               WorkOrder.id)).all()
        actual = dict(s.execute(select(WorkOrder.number, ComponentVariance.actual_quantity)
                                .join(ComponentVariance, ComponentVariance.work_order_id == WorkOrder.id)).all())
        blocked = s.get(Trigger, scenario.blocked_trigger_id)
        reversal = s.get(Reversal, scenario.reversal_id)
    assert closed == [f"WO-{n:02d}" for n in range(1, 22)]
    assert [actual[f"WO-{n:02d}"] for n in range(1, 5)] == [D("10.000"), D("11.000"), D("10.000"), D("11.000")]
    assert actual["WO-21"] == D("5.000")
    assert (blocked.outcome, blocked.first_blocked_at is not None) == ("POSTED", True)
    assert reversal.status == "EXECUTED"
