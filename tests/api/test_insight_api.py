"""controlSignals and supplierVariances over GraphQL: decimal strings, site scoping, the reports scope."""
import pytest

from tests.builders import Plant, qa_user
from tests.insight.scenario import build_insight_scenario

SIGNALS = """{ controlSignals(itemCode: "C") { item { code } workOrder { number } usagePerUnit mean sigma
               lowerLimit upperLimit sampleSize } }"""
SUPPLIERS = """{ supplierVariances { supplier item { code } lots standardQuantity actualQuantity usageVariance
                 variancePercent } }"""


@pytest.fixture
def seeded(api, sessions):
    build_insight_scenario(Plant(sessions, qa_user(sessions)))
    return api


def test_the_signal_and_the_supplier_split_travel_as_decimal_strings(seeded):
    assert seeded(SIGNALS)["controlSignals"] == [{
        "item": {"code": "C"}, "workOrder": {"number": "WO-21"}, "usagePerUnit": "1.250000", "mean": "1.050000",
        "sigma": "0.050000", "lowerLimit": "0.900000", "upperLimit": "1.200000", "sampleSize": 20}]
    assert seeded(SUPPLIERS)["supplierVariances"] == [
        {"supplier": "ACME", "item": {"code": "C"}, "lots": 2, "standardQuantity": "201.600",
         "actualQuantity": "212.000", "usageVariance": "10.400", "variancePercent": "5.16"},
        {"supplier": "BETA", "item": {"code": "C"}, "lots": 1, "standardQuantity": "2.400",
         "actualQuantity": "3.000", "usageVariance": "0.600", "variancePercent": "25.00"}]


def test_another_sites_user_sees_neither_and_a_client_without_reports_read_is_forbidden(seeded):
    seeded.principals.add_user("far", roles=("QA",), sites=("ELSEWHERE",))
    far = seeded.as_("far")
    assert far(SIGNALS)["controlSignals"] == [] and far(SUPPLIERS)["supplierVariances"] == []
    seeded.principals.add_client("line", scopes={"triggers:write", "production:read"})
    body = seeded.as_("line").raw(SIGNALS).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_backflush_metrics_break_usage_variance_down_by_work_center(seeded):
    metrics = seeded("""{ backflushMetrics { usageVarianceByWorkCenter { workCenter component { code }
                          standardQuantity actualQuantity usageVariance variancePercent } } }""")
    assert metrics["backflushMetrics"]["usageVarianceByWorkCenter"] == [
        {"workCenter": None, "component": {"code": "C"}, "standardQuantity": "204.000", "actualQuantity": "215.000",
         "usageVariance": "11.000", "variancePercent": "5.39"}]
