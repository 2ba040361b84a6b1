"""Control-limit signals (SPEC §9, issue 14): usage per good unit against mean ± 3σ of earlier closed orders.

Hand computation for the scenario (tests/insight/scenario.py): orders 1-20 used 1.00 and 1.10 kg per
unit alternately, so their mean is 1.05 and σ = √(Σ(±0.05)² / 20) = 0.05; the limits are
1.05 ± 0.15 = [0.90, 1.20]. Order 21 used 5.000 kg for 4 good units = 1.25 kg/unit, 4σ above: the one
signal. Every earlier order with ≥ 8 predecessors stays inside its limits (e.g. order 10 against
orders 1-9: mean 9.4/9 = 1.0444…, σ = 0.1·√20/9 = 0.0497…, upper 1.1935… > 1.10).
"""
from datetime import timedelta
from decimal import Decimal

from backflush.insight.control_limits import ControlWindow, UsagePoint, judge, limits_of
from backflush.insight.signals import control_signals

D = Decimal
WINDOW = ControlWindow(min_sample=8, max_sample=20)


def signals_of(scenario, window=WINDOW, **filters):
    plant = scenario.plant
    args = {"item_code": None, "since": None, "until": None, **filters}
    with plant.sessions() as s:
        return [(r.item.code, r.work_order.number, r.usage_per_unit, r.limits.mean, r.limits.sigma, r.limits.lower,
                 r.limits.upper, r.limits.sample_size) for r in control_signals(s, plant.principal, window=window, **args)]


def test_the_order_4_sigma_above_the_twenty_before_it_is_the_only_signal(scenario):
    assert signals_of(scenario) == [
        ("C", "WO-21", D("1.250000"), D("1.050000"), D("0.050000"), D("0.900000"), D("1.200000"), 20)]


def test_the_window_bounds_the_sample_and_too_few_predecessors_judge_nothing(scenario):
    # The 10 most recent predecessors (orders 11-20) alternate as well: same limits, sample of 10.
    assert signals_of(scenario, ControlWindow(min_sample=8, max_sample=10)) == [
        ("C", "WO-21", D("1.250000"), D("1.050000"), D("0.050000"), D("0.900000"), D("1.200000"), 10)]
    assert signals_of(scenario, ControlWindow(min_sample=21, max_sample=30)) == []


def test_signals_filter_by_component_and_by_the_period_the_order_closed_in(scenario):
    with scenario.plant.sessions() as s:
        from models import WorkOrder
        closed_21 = s.get(WorkOrder, scenario.orders[-1].id).closed_at
    assert [row[1] for row in signals_of(scenario, item_code="C")] == ["WO-21"]
    assert signals_of(scenario, item_code="FG") == []
    assert [row[1] for row in signals_of(scenario, since=closed_21, until=closed_21 + timedelta(seconds=1))] == ["WO-21"]
    assert signals_of(scenario, since=closed_21 + timedelta(microseconds=1)) == []
    assert signals_of(scenario, until=closed_21) == []


def test_another_sites_user_sees_no_signal(scenario):
    from auth.principal import Principal
    stranger = Principal(subject="user:far", name="Far", kind="user", roles=frozenset({"QA"}),
                         scopes=frozenset({"reports:read"}), sites=frozenset({"ELSEWHERE"}), user_id=None)
    with scenario.plant.sessions() as s:
        assert control_signals(s, stranger, item_code=None, since=None, until=None, window=WINDOW) == []


def test_limits_are_the_population_mean_and_sigma_of_the_reference_orders():
    limits = limits_of([D("1.00"), D("1.10")] * 10)
    assert (limits.mean, limits.sigma, limits.lower, limits.upper, limits.sample_size) == (
        D("1.05"), D("0.05"), D("0.90"), D("1.20"), 20)
    nine = limits_of([D("1.00")] * 5 + [D("1.10")] * 4)
    assert nine.rounded().mean == D("1.044444") and nine.rounded().sigma == D("0.049690")


def test_an_order_is_judged_only_with_at_least_min_sample_predecessors_and_at_most_max_sample():
    series = [UsagePoint(n, D("1")) for n in range(12)]
    judged = judge(series, ControlWindow(min_sample=8, max_sample=10))
    assert [(p.work_order_id, lim.sample_size) for p, lim in judged] == [(8, 8), (9, 9), (10, 10), (11, 10)]


def test_qa_s_deviation_rule_on_the_control_signal_fact_opens_a_deviation_when_the_order_closes(scenario):
    from sqlalchemy import select

    from models import Deviation, RuleDecision, WorkOrder
    with scenario.plant.sessions() as s:
        opened = s.execute(select(WorkOrder.number, Deviation.category, Deviation.reason_code)
                           .join(WorkOrder, WorkOrder.id == Deviation.work_order_id)
                           .where(Deviation.category == "CONTROL_SIGNAL")).all()
        decisions = s.scalars(select(RuleDecision).where(RuleDecision.work_order_id == scenario.orders[-1].id)).all()
    assert opened == [("WO-21", "CONTROL_SIGNAL", "CONTROL_SIGNAL_C")]
    fired = [f["rule_id"] for d in decisions for f in d.fired]
    assert "control-signal" in fired and "usage-variance" in fired


def test_signals_are_computed_in_a_fixed_number_of_statements_however_many_orders_closed(scenario, engine):
    from sqlalchemy import event
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert len(signals_of(scenario)) == 1
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= 5, statements  # usage, good units, items, orders (+ the principal's sites)


def test_a_window_that_cannot_judge_is_refused_when_the_settings_are_read():
    import pytest

    from kernel.settings import Settings
    with pytest.raises(ValueError):
        Settings.from_env({"BACKFLUSH_CONTROL_MIN_SAMPLE": "30", "BACKFLUSH_CONTROL_MAX_SAMPLE": "20"})
