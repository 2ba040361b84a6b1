"""Issue 12: what posting keeps per process never outlives a change QA makes.

Released facts (the bound BOM's explosion, the order's operations) are cached because they cannot
change; rule sets can, so the versions in force are read on every trigger and only their compiled form
is kept, keyed by the document's content: approving a version takes effect on the very next trigger.
"""
from __future__ import annotations

from backflush.services import rule_sets
from tests.builders import signed
from tests.test_operation_sequence import blocking_without_operation_ahead, codes, report, routed_order


def test_approving_a_rule_set_version_decides_the_next_trigger_in_the_same_process(sessions):
    plant, order = routed_order(sessions)
    assert report(plant, order, 10, "5").outcome == "POSTED"  # warms the process: facts and compiled rules
    assert codes(report(plant, order, 20, "30")) == ["OPERATION_AHEAD"]
    draft = plant.run(rule_sets.create_draft, name="blocking-parallel", kind="BLOCKING",
                      document=blocking_without_operation_ahead(), site_code=None)
    plant.run(rule_sets.approve_rule_set, rule_set_id=draft.id, signature=signed(), effective_from=None)
    assert report(plant, order, 20, "30").outcome == "POSTED"
