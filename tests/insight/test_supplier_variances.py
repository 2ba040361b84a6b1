"""Supplier-attributed usage variance (SPEC §9, issue 14), hand-computed for the scenario.

Orders 1-20 drew only ACME lots (A1 for 1-10, A2 for 11-20): standard 20 × 10 = 200.000 kg, actual
10 × 10 + 10 × 11 = 210.000 kg, usage +10.000 kg. Order 21 (standard 4.000, actual 5.000, usage
+1.000) drew 3.000 kg of B1 (BETA) and 2.000 kg of A2 (ACME): BETA takes 3/5, ACME 2/5.

  ACME: standard 200 + 1.6 = 201.600, actual 210 + 2 = 212.000, usage 10 + 0.4 = 10.400,
        10.4 / 201.6 = 5.1587…% → 5.16 %, lots A1 and A2
  BETA: standard 2.400, actual 3.000, usage 0.600, 0.6 / 2.4 = 25.00 %, lot B1
Order 2's reversed trigger drew 11.000 kg that came back: it counts nowhere.
"""
from datetime import timedelta
from decimal import Decimal

from backflush.insight.supplier_variance import supplier_variances
from models import WorkOrder

D = Decimal


def rows_of(scenario, **period):
    plant = scenario.plant
    with plant.sessions() as s:
        return [(r.item.code, r.supplier, r.lots, r.standard_quantity, r.actual_quantity, r.usage_variance,
                 r.variance_percent)
                for r in supplier_variances(s, plant.principal, since=period.get("since"), until=period.get("until"))]


def test_usage_variance_is_split_by_the_suppliers_of_the_lots_drawn_in_proportion_to_quantity(scenario):
    assert rows_of(scenario) == [
        ("C", "ACME", 2, D("201.600"), D("212.000"), D("10.400"), D("5.16")),
        ("C", "BETA", 1, D("2.400"), D("3.000"), D("0.600"), D("25.00")),
    ]


def test_only_orders_closed_in_the_period_count(scenario):
    with scenario.plant.sessions() as s:
        closed_21 = s.get(WorkOrder, scenario.orders[-1].id).closed_at
    assert rows_of(scenario, since=closed_21) == [
        ("C", "ACME", 1, D("1.600"), D("2.000"), D("0.400"), D("25.00")),
        ("C", "BETA", 1, D("2.400"), D("3.000"), D("0.600"), D("25.00")),
    ]
    assert rows_of(scenario, since=closed_21 + timedelta(seconds=1)) == []
