"""Decisions per second for a 10-rule BLOCKING set, on durable-rules and on the Python reference.

    python bench/bench_rules.py [--seconds 3]

A decision is the whole public path the posting service takes — rules.evaluate(): fact building,
input hash, matching, and combining the firings — over one trigger and four requirement lines;
"matching only" times the engine call alone. Target (issue 12): ≥ 10,000 decisions/s on durable.
bench/run.py reports the durable figure of this measurement.
"""
from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rules import evaluate, load_ruleset, reference  # noqa: E402
from rules.facts import normalize_facts  # noqa: E402


def _rule(rule_id: str, fact: str, when: dict, code: str) -> dict:
    return {"id": rule_id, "description": f"blocks with {code}", "fact": fact, "when": when,
            "then": {"action": "block", "code": code, "message": code.replace("_", " ").lower()}}


RULES = [
    _rule("clock-skew", "trigger", {"$or": [{"$gt": {"clock_skew_seconds": 120}},
                                            {"$lt": {"clock_skew_seconds": -120}}]}, "CLOCK_SKEW"),
    _rule("lab-devices", "trigger", {"$mt": {"device_id": "LAB-.*"}}, "LAB_DEVICE"),
    _rule("huge-scrap", "trigger", {"$gt": {"scrap_quantity": 1000}}, "SCRAP_TOO_HIGH"),
    _rule("far-over-plan", "trigger", {"$gt": {"cumulative_good_quantity": 100000}}, "FAR_OVER_PLAN"),
    _rule("pack-without-unit", "trigger", {"kind": "PACK_CONFIRMED", "$nex": {"handling_unit": 1}},
          "HANDLING_UNIT_MISSING"),
    _rule("machine-on-rework", "trigger", {"principal_kind": "CLIENT", "$imt": {"work_center": "rwk-%d+"}},
          "REWORK_NEEDS_OPERATOR"),
    _rule("short-line", "requirement", {"$gt": {"shortfall": 0}}, "INSUFFICIENT_STAGED_STOCK"),
    _rule("serials-missing", "requirement", {"serialized": True, "$lt": {"serial_count": 1}},
          "SERIAL_SCAN_REQUIRED"),
    _rule("forward-issue-backflushed", "requirement",
          {"posting_method": "FORWARD_ISSUE", "$gt": {"required": 0}}, "FORWARD_ISSUE_LINE"),
    {"id": "packaging-on-hold-unit", "description": "no packaging draw on a closed unit",
     "when_all": [{"fact": "trigger", "when": {"kind": "HANDLING_UNIT_CLOSED"}},
                  {"fact": "requirement", "when": {"$mt": {"component_code": "PKG-%d+"}}}],
     "then": {"action": "block", "code": "UNIT_ALREADY_CLOSED", "message": "unit closed"}},
]


def _trigger(**changes) -> dict:
    return {"work_order_number": "WO-1001", "kind": "OPERATION_COMPLETE", "operation_seq": 20,
            "good_quantity": Decimal("100"), "scrap_quantity": Decimal("2"), "device_id": "LINE3-HMI",
            "clock_skew_seconds": Decimal("3.5"), "principal_kind": "USER", "work_center": "MIX-01",
            "cumulative_good_quantity": Decimal("300"), **changes}


def _line(line_no: int, component: str, shortfall: str = "0", **changes) -> dict:
    return {"line_no": line_no, "component_code": component, "posting_method": "BACKFLUSH",
            "required": Decimal("12.5"), "eligible": Decimal("40"), "shortfall": Decimal(shortfall),
            "serialized": False, "serial_count": 0, **changes}


INPUTS = [
    {"trigger": [_trigger()],
     "requirement": [_line(10, "RM-1"), _line(20, "RM-2"), _line(30, "PKG-7"), _line(40, "RM-4")]},
    {"trigger": [_trigger(clock_skew_seconds=Decimal("-300"))],
     "requirement": [_line(10, "RM-1", "2.5"), _line(20, "RM-2"), _line(30, "PKG-7"), _line(40, "RM-4")]},
    {"trigger": [_trigger(kind="HANDLING_UNIT_CLOSED", handling_unit="HU-1")],
     "requirement": [_line(10, "RM-1"), _line(20, "SN-2", serialized=True), _line(30, "PKG-7"),
                     _line(40, "RM-4")]},
]

DOCUMENT = {"rules": RULES, "tests": [
    {"name": f"input {i}", "facts": facts, "expect": []} for i, facts in enumerate(INPUTS)]}


def per_second(decide, inputs: list, seconds: float) -> tuple[float, float]:
    """(per wall-clock second, per CPU second of this process) — the second is steadier on a busy host."""
    for facts in inputs:
        decide(facts)  # compile and warm up
    done, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        for facts in inputs:
            decide(facts)
        done += len(inputs)
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu_started)


def measure(engine: str, seconds: float) -> tuple[float, float, float]:
    """Decisions/s through rules.evaluate (wall, CPU), and of the engine call alone (wall)."""
    ruleset = load_ruleset(DOCUMENT, ruleset_id="bench", version=1, kind="BLOCKING")
    wall, cpu = per_second(lambda facts: evaluate(ruleset, facts, engine=engine), INPUTS, seconds)
    if engine == "durable":
        from rules import engine as durable

        def match(facts):
            return durable.fire("bench", 1, ruleset.document, facts)
    else:
        def match(facts):
            return reference.fire(ruleset.document, facts)
    built = [normalize_facts(facts) for facts in INPUTS]
    return wall, cpu, per_second(match, built, seconds)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per engine")
    seconds = parser.parse_args().seconds
    fired = [evaluate(load_ruleset(DOCUMENT, ruleset_id="bench", version=1, kind="BLOCKING"), f).block_codes
             for f in INPUTS]
    print(f"10 rules, 1 trigger + 4 requirement facts per decision; block codes per input: {fired}")
    durable, python_ref = measure("durable", seconds), measure("python-ref", seconds)
    print("engine      evaluate/s (wall)  evaluate/s (CPU)  matching only/s (wall)")
    for name, (wall, cpu, matching) in (("durable", durable), ("python-ref", python_ref)):
        print(f"{name:<10}  {wall:17,.0f}  {cpu:16,.0f}  {matching:22,.0f}")
    wall, cpu = durable[0] / python_ref[0], durable[1] / python_ref[1]
    print(f"durable / python-ref = {wall:.2f} (wall), {cpu:.2f} (CPU)")


if __name__ == "__main__":
    main()
