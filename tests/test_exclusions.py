"""QA's ELIGIBILITY exclusions exclude the lot the rule named, and no decision claims an effect the posting lacks.

Binding ids and lot ids differ on purpose: another order's lots are staged first.
"""
from __future__ import annotations

from datetime import date, timedelta

import yaml
from sqlalchemy import select

import rules
from backflush.policies.rules_policy import RulesFlushPolicy
from backflush.services import rule_sets
from backflush.services.exclusion_breaches import exclusion_breaches
from backflush.services.posting import retry_trigger
from models import LedgerEntry, Lot, RuleDecision, RuleSet, StagedLot
from tests.builders import D, Plant, line, post, qa_user, signed, trigger

BADCO_RULE = {"id": "exclude-badco", "description": "Supplier BADCO's lots failed the supplier audit",
              "fact": "candidate_lot", "when": {"supplier": "BADCO"},
              "then": {"action": "exclude", "code": "SUPPLIER_BLOCKED", "message": "BADCO lots are not used"}}
BADCO_TEST = {"name": "a BADCO lot is excluded",
              "facts": {"candidate_lot": [{"lot_number": "X", "status": "RELEASED", "supplier": "BADCO"}]},
              "expect": [{"rule": "exclude-badco", "code": "SUPPLIER_BLOCKED"}]}


def eligibility_without_badco() -> dict:
    """QA's version: the shipped default plus their supplier rule."""
    document = yaml.safe_load(rules.default_source("ELIGIBILITY"))
    document["rules"].append(BADCO_RULE)
    document["tests"].append(BADCO_TEST)
    return document


def qa_excludes_badco(plant: Plant) -> None:
    draft = plant.run(rule_sets.create_draft, name="eligibility-suppliers", kind="ELIGIBILITY",
                      document=eligibility_without_badco(), site_code=None)
    plant.run(rule_sets.approve_rule_set, rule_set_id=draft.id, signature=signed(), effective_from=None)


def badco_plant(sessions):
    """BAD-1 (BADCO) expires first, so FEFO would draw it first; both lots were staged to WO-0 before WO-1."""
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    soon, later = date.today() + timedelta(days=30), date.today() + timedelta(days=300)
    bad = plant.receive("C", "BAD-1", "20.000", supplier="BADCO", expires_on=soon)
    good = plant.receive("C", "GOOD-1", "20.000", supplier="ACME", expires_on=later)
    earlier = plant.work_order("WO-0", "FG")
    plant.stage(earlier, good, "1.000")
    plant.stage(earlier, bad, "1.000")
    order = plant.work_order("WO-1", "FG")
    bad_binding = plant.stage(order, bad, "5.000")
    plant.stage(order, good, "5.000")
    assert bad_binding.id != bad.id  # the identities that used to be confused really differ here
    return plant, order, bad, good


def drawn(sessions, trigger_id) -> list[tuple[str, D]]:
    with sessions() as s:
        return [(number, quantity) for number, quantity in s.execute(
            select(Lot.lot_number, LedgerEntry.quantity).join(Lot, Lot.id == LedgerEntry.lot_id)
            .where(LedgerEntry.trigger_id == trigger_id, LedgerEntry.kind == "BACKFLUSH_ISSUE")
            .order_by(LedgerEntry.id))]


def test_a_qa_exclusion_of_supplier_badco_keeps_its_lot_out_of_the_flush(sessions):
    # given QA excludes supplier BADCO, and WO-1 has BADCO's lot staged (expiring first) and ACME's
    plant, order, bad, good = badco_plant(sessions)
    qa_excludes_badco(plant)
    # when WO-1 reports 3 good units
    posted = post(plant, trigger(order, "3")).trigger
    # then only ACME's lot is drawn, and the decision's exclusion matches what was drawn
    assert posted.outcome == "POSTED"
    assert drawn(sessions, posted.id) == [("GOOD-1", D("3.000"))]
    with sessions() as s:
        decision = s.scalar(select(RuleDecision).join(RuleSet).where(RuleDecision.trigger_id == posted.id,
                                                                     RuleSet.kind == "ELIGIBILITY"))
        excluded = [decision.facts["candidate_lot"][int(ref.split("[")[1][:-1])]["lot_number"]
                    for firing in decision.fired for ref in firing["facts"]]
        assert excluded == ["BAD-1"] and decision.outcome == "POSTED"
        assert exclusion_breaches(s) == []


def test_when_only_the_excluded_lot_would_cover_it_the_trigger_blocks_instead_of_drawing_it(sessions):
    plant, order, bad, good = badco_plant(sessions)
    qa_excludes_badco(plant)
    blocked = post(plant, trigger(order, "8")).trigger
    assert blocked.outcome == "BLOCKED"
    assert [(r["code"], r["required"], r["eligible"]) for r in blocked.block_reasons] == \
        [("INSUFFICIENT_STAGED_STOCK", "8.000", "5.000")]
    assert drawn(sessions, blocked.id) == []


class DecidesButIgnores(RulesFlushPolicy):
    """The defect class under audit: the rules decide an exclusion that the planner never applies."""

    def excluded_bindings(self, bindings, *, verdict):
        super().excluded_bindings(bindings, verdict=verdict)
        return set()


def test_the_exclusion_check_names_a_posting_that_drew_a_lot_its_decision_excluded(sessions):
    # given a posting whose recorded decision excluded BADCO's binding, yet which drew from it
    plant, order, bad, good = badco_plant(sessions)
    qa_excludes_badco(plant)
    posted = post_with(plant, trigger(order, "3"), DecidesButIgnores()).trigger
    assert drawn(sessions, posted.id) == [("BAD-1", D("3.000"))]
    # when the check runs, then it names the trigger, the rule, the code and the lot drawn
    with sessions() as s:
        binding = s.scalar(select(StagedLot.id).where(StagedLot.work_order_id == order.id, StagedLot.lot_id == bad.id))
        breaches = exclusion_breaches(s)
        assert [(b.trigger_id, b.binding_id, b.lot_number, b.quantity, b.rule_ids, b.codes) for b in breaches] == [
            (posted.id, binding, "BAD-1", D("3.000"), ("exclude-badco",), ("SUPPLIER_BLOCKED",))]
        assert exclusion_breaches(s, trigger_ids=[posted.id + 1]) == []


def test_a_block_time_exclusion_does_not_bind_the_posting_after_correction(sessions):
    # given a trigger blocked while its only lot was on hold (the ELIGIBILITY decision excluded it)
    from backflush.services import receiving

    plant, order, bad, good = badco_plant(sessions)
    plant.run(receiving.set_lot_status, lot_id=good.id, status="ON_HOLD", reason="pending lab result", signature=None)
    plant.run(receiving.set_lot_status, lot_id=bad.id, status="ON_HOLD", reason="pending lab result", signature=None)
    blocked = post(plant, trigger(order, "3")).trigger
    assert blocked.outcome == "BLOCKED"
    # when QA releases it and the trigger is retried
    plant.run(receiving.set_lot_status, lot_id=good.id, status="RELEASED", reason="lab passed",
              signature=signed("Released"))
    retried = plant.run(retry_trigger, trigger_id=blocked.id).trigger
    # then the posting draws it, and only the posting's own decision is held against the posting
    assert retried.outcome == "POSTED" and drawn(sessions, blocked.id) == [("GOOD-1", D("3.000"))]
    with sessions() as s:
        outcomes = list(s.scalars(select(RuleDecision.outcome).where(RuleDecision.trigger_id == blocked.id)
                                  .order_by(RuleDecision.id)))
        assert outcomes[0] == "BLOCKED" and outcomes[-1] == "POSTED"
        assert exclusion_breaches(s) == []


def post_with(plant: Plant, request, policy):
    from backflush.services.posting import submit_trigger

    return submit_trigger(plant.sessions, plant.principal, request, policy)


def test_an_auditor_runs_the_exclusion_check_from_the_command_line(sessions, database_url, monkeypatch, capsys):
    from api.cli import main

    monkeypatch.setenv("BACKFLUSH_DATABASE_URL", database_url)
    plant, order, bad, good = badco_plant(sessions)
    qa_excludes_badco(plant)
    post(plant, trigger(order, "1"))
    assert main(["check-exclusions"]) == 0
    posted = post_with(plant, trigger(order, "3"), DecidesButIgnores()).trigger
    assert main(["check-exclusions"]) == 1
    assert f"trigger {posted.id}: drew 3.000 of lot BAD-1" in capsys.readouterr().out



RECALLED_SERIES_RULE = {"id": "exclude-recalled-series", "description": "The BAD- lot series is under recall",
                        "fact": "candidate_lot", "when": {"$mt": {"lot_number": "BAD-%d+"}},
                        "then": {"action": "exclude", "code": "RECALLED_SERIES", "message": "BAD- lots are recalled"}}
RECALLED_SERIES_TEST = {"name": "a lot of the recalled series is excluded",
                        "facts": {"candidate_lot": [{"lot_number": "BAD-7", "status": "RELEASED"}]},
                        "expect": [{"rule": "exclude-recalled-series", "code": "RECALLED_SERIES"}]}


def test_a_custom_eligibility_rule_on_the_lot_number_decides_what_the_posting_service_draws(sessions):
    # given QA's own ELIGIBILITY version: the shipped default plus "the BAD- series is recalled"
    plant, order, bad, good = badco_plant(sessions)  # BAD-1 expires first, so FEFO alone would draw it first
    document = yaml.safe_load(rules.default_source("ELIGIBILITY"))
    document["rules"].append(RECALLED_SERIES_RULE)
    document["tests"].append(RECALLED_SERIES_TEST)
    draft = plant.run(rule_sets.create_draft, name="eligibility-recall", kind="ELIGIBILITY", document=document,
                      site_code=None)
    plant.run(rule_sets.approve_rule_set, rule_set_id=draft.id, signature=signed(), effective_from=None)
    # when 7 units are reported, more than the 5 kg of GOOD-1 staged
    short = post(plant, trigger(order, "7")).trigger
    # then the posting service counts only GOOD-1 as eligible and blocks; 5 units post from GOOD-1 alone
    assert short.outcome == "BLOCKED"
    assert [(r["code"], r["eligible"]) for r in short.block_reasons] == [("INSUFFICIENT_STAGED_STOCK", "5.000")]
    posted = post(plant, trigger(order, "5")).trigger
    assert posted.outcome == "POSTED" and drawn(sessions, posted.id) == [("GOOD-1", D("5.000"))]
