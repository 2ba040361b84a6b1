"""Reversals (SPEC §4.5, §6, §8) end to end: signatures as policy requires, exact compensation, genealogy."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from auth.principal import Principal
from backflush.policies.policy import DecisionRecord
from backflush.policies.reversal_policy import BuiltinReversalPolicy, SignatureRequirement, unmet
from backflush.reads.genealogy import backward_tree
from backflush.services import receiving, reversals
from backflush.services.closing import close_work_order
from backflush.services.commands import command
from backflush.services.ledger import check_consistency
from backflush.services.staging import StageRequest, stage_lot
from kernel import audit
from kernel.errors import DomainError
from models import Balance, ESignature, LedgerEntry, Reversal, RuleDecision, RuleSet, StagedLot, Trigger
from tests.builders import Plant, line, post, qa_user, signed, trigger

D = Decimal
SOON, LATER = date.today() + timedelta(days=10), date.today() + timedelta(days=90)


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions, "qa.lead"))


@pytest.fixture
def people(sessions):
    return {"sup": qa_user(sessions, "sup.one", roles=("SUPERVISOR",)),
            "sup2": qa_user(sessions, "sup.two", roles=("SUPERVISOR",)),
            "qa": qa_user(sessions, "qa.two", roles=("QA",)),
            "operator": qa_user(sessions, "op.one", roles=("OPERATOR",))}


def act(plant, principal, fn, **kwargs):
    with command(plant.sessions, principal) as s:
        result = fn(s, principal, **kwargs)
        s.commit()
        return result


def refused(plant, principal, fn, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as error:
        act(plant, principal, fn, **kwargs)
    return error.value


def fefo_order(plant):
    """L2 (expires soon) and L1 (later) staged; good 7 of 1 kg/unit draws L2 5 kg, then L1 2 kg."""
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    l1 = plant.receive("C", "L1", "5.000", expires_on=LATER)
    l2 = plant.receive("C", "L2", "5.000", expires_on=SOON)
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, l1, "5.000")
    plant.stage(order, l2, "5.000")
    posted = post(plant, trigger(order, "7")).trigger
    return order, l1, l2, posted


def wip_balances(plant, *lots) -> list[Decimal]:
    with plant.sessions() as s:
        return [s.scalar(select(Balance.quantity).where(Balance.lot_id == lot.id,
                                                        Balance.location_id == plant.locations["WIP"])) for lot in lots]


def request(plant, posted, principal=None, reason="WRONG_ORDER"):
    return act(plant, principal or plant.principal, reversals.request_reversal, trigger_id=posted.id,
               reason_code=reason, comment="posted to the wrong order")


def assert_books_balance(plant):
    with plant.sessions() as s:
        assert check_consistency(s) == []
        assert audit.verify(s).ok


def test_a_quarantined_output_needs_one_signature_and_the_reversal_restores_each_lot_where_it_was(plant, people):
    order, l1, l2, posted = fefo_order(plant)
    assert wip_balances(plant, l2, l1) == [D("0.000"), D("3.000")]
    pending = request(plant, posted, people["operator"])
    assert (pending.status, pending.required) == ("PENDING_SIGNATURES", [
        {"count": 1, "roles": ["QA", "SUPERVISOR"], "meaning": "Reversal approved"}])
    done = act(plant, people["sup"], reversals.sign_reversal, reversal_id=pending.id, signature=signed("Reversal approved"))
    assert done.status == "EXECUTED" and done.executed_at is not None
    assert wip_balances(plant, l2, l1) == [D("5.000"), D("5.000")]
    with plant.sessions() as s:
        rows = s.execute(select(LedgerEntry.lot_id, LedgerEntry.from_location_id, LedgerEntry.to_location_id,
                                LedgerEntry.quantity, LedgerEntry.reason_code).where(LedgerEntry.kind == "REVERSAL")
                         .order_by(LedgerEntry.id)).all()
        assert rows == [(l2.id, None, plant.locations["WIP"], D("5.000"), "WRONG_ORDER"),
                        (l1.id, None, plant.locations["WIP"], D("2.000"), "WRONG_ORDER"),
                        (order.output_lot_id, plant.locations["FINISHED"], None, D("7"), "WRONG_ORDER")]
        assert sorted(s.scalars(select(StagedLot.remaining_quantity))) == [D("5.000"), D("5.000")]
        assert s.get(Trigger, posted.id).reversed is True
        assert backward_tree(s, root_lot_id=order.output_lot_id, include_reversed=False).edges == ()
        flagged = backward_tree(s, root_lot_id=order.output_lot_id, include_reversed=True).edges
        assert [(e.from_lot_id, e.quantity, e.reversed) for e in flagged] == [(l2.id, D("5.000"), True),
                                                                             (l1.id, D("2.000"), True)]
    assert_books_balance(plant)


def test_a_released_output_needs_two_distinct_signers_one_of_them_qa(plant, people):
    order, l1, l2, posted = fefo_order(plant)
    plant.run(receiving.set_lot_status, lot_id=order.output_lot_id, status="RELEASED", reason="QA release",
              signature=signed("Released"))
    pending = request(plant, posted, people["operator"])
    assert [SignatureRequirement.from_json(r) for r in pending.required] == [
        SignatureRequirement(2, ("QA", "SUPERVISOR"), "Reversal approved"),
        SignatureRequirement(1, ("QA",), "Reversal approved by QA")]
    first = act(plant, people["sup"], reversals.sign_reversal, reversal_id=pending.id, signature=signed())
    assert first.status == "PENDING_SIGNATURES"
    twice = refused(plant, people["sup"], reversals.sign_reversal, reversal_id=pending.id, signature=signed("Again"))
    assert twice.code == "SIGNER_ALREADY_SIGNED"
    assert wip_balances(plant, l2, l1) == [D("0.000"), D("3.000")], "the same person twice does not count"
    second = act(plant, people["qa"], reversals.sign_reversal, reversal_id=pending.id, signature=signed())
    assert second.status == "EXECUTED"
    assert wip_balances(plant, l2, l1) == [D("5.000"), D("5.000")]
    assert_books_balance(plant)


def test_a_signer_without_a_role_still_needed_is_refused(plant, people):
    order, _, _, posted = fefo_order(plant)
    pending = request(plant, posted)
    assert refused(plant, people["operator"], reversals.sign_reversal, reversal_id=pending.id,
                   signature=signed()).code == "SIGNER_ROLE_NOT_ALLOWED"
    with plant.sessions() as s:
        assert s.scalars(select(ESignature).where(ESignature.record_type == "reversal")).all() == []


def test_a_machine_client_cannot_sign_and_a_wrong_password_changes_nothing(plant, people):
    order, l1, l2, posted = fefo_order(plant)
    pending = request(plant, posted)
    robot = Principal(subject="client:line-3", name="line-3", kind="client", roles=frozenset({"SUPERVISOR"}),
                      scopes=frozenset({"admin"}), sites=frozenset({"*"}))
    assert refused(plant, robot, reversals.sign_reversal, reversal_id=pending.id,
                   signature=signed()).code == "SIGNATURE_NOT_ALLOWED"
    wrong = refused(plant, people["sup"], reversals.sign_reversal, reversal_id=pending.id,
                    signature=signed(password="not-the-password"))
    assert wrong.code == "SIGNATURE_INVALID"
    with plant.sessions() as s:
        assert s.get(Reversal, pending.id).status == "PENDING_SIGNATURES"
        assert s.scalars(select(ESignature).where(ESignature.record_type == "reversal")).all() == []
        assert s.get(Trigger, posted.id).reversed is False
    assert wip_balances(plant, l2, l1) == [D("0.000"), D("3.000")]
    assert_books_balance(plant)


def test_a_reversed_flush_no_longer_counts_towards_the_cumulative_target(plant, people):
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    lot = plant.receive("C", "C-1", "12.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "12.000")
    four = post(plant, trigger(order, "4")).trigger
    act(plant, people["sup"], reversals.sign_reversal, reversal_id=request(plant, four).id, signature=signed())
    ten = post(plant, trigger(order, "10")).trigger
    assert ten.outcome == "POSTED"
    with plant.sessions() as s:
        issued = s.scalars(select(LedgerEntry.quantity).where(LedgerEntry.trigger_id == ten.id,
                                                              LedgerEntry.kind == "BACKFLUSH_ISSUE")).all()
    assert issued == [D("10.000")]
    assert_books_balance(plant)


def test_a_reversal_is_refused_once_the_output_was_used_downstream(plant, people):
    order, l1, l2, posted = fefo_order(plant)
    plant.item("PK", "ea", 0)
    plant.bom("PK", [line(1, "FG", "1", "ea")])
    packing = plant.work_order("WO-2", "PK")
    pending = request(plant, posted)
    plant.run(stage_lot, StageRequest(work_order_id=packing.id, lot_id=order.output_lot_id,
                                      from_location_id=plant.locations["FINISHED"], quantity="3",
                                      scanned_lot_number="WO-1-OUT"))
    late = refused(plant, people["sup"], reversals.sign_reversal, reversal_id=pending.id, signature=signed())
    assert late.code == "OUTPUT_ALREADY_CONSUMED"
    assert refused(plant, plant.principal, reversals.reject_reversal, reversal_id=pending.id, reason="").code == "REQUIRED"
    act(plant, plant.principal, reversals.reject_reversal, reversal_id=pending.id, reason="output already packed")
    assert refused(plant, plant.principal, reversals.request_reversal, trigger_id=posted.id, reason_code="WRONG_ORDER",
                   comment=None).code == "OUTPUT_ALREADY_CONSUMED"
    with plant.sessions() as s:
        assert s.get(Reversal, pending.id).status == "REJECTED"
        assert s.get(Trigger, posted.id).reversed is False
    assert_books_balance(plant)


def test_only_a_posted_trigger_not_yet_reversed_can_be_reversed_once(plant, people):
    order, _, _, posted = fefo_order(plant)
    blocked = post(plant, trigger(order, "50")).trigger
    assert blocked.outcome == "BLOCKED"
    assert refused(plant, plant.principal, reversals.request_reversal, trigger_id=blocked.id, reason_code="X",
                   comment=None).code == "TRIGGER_NOT_POSTED"
    pending = request(plant, posted)
    assert refused(plant, plant.principal, reversals.request_reversal, trigger_id=posted.id, reason_code="X",
                   comment=None).code == "REVERSAL_PENDING"
    held = refused(plant, plant.principal, close_work_order, work_order_id=order.id)
    assert held.code == "PENDING_BLOCKED_TRIGGERS"
    act(plant, people["qa"], reversals.sign_reversal, reversal_id=pending.id, signature=signed())
    assert refused(plant, plant.principal, reversals.request_reversal, trigger_id=posted.id, reason_code="X",
                   comment=None).code == "ALREADY_REVERSED"
    assert refused(plant, people["sup"], reversals.sign_reversal, reversal_id=pending.id,
                   signature=signed()).code == "REVERSAL_NOT_PENDING"
    assert_books_balance(plant)


class RecordedPolicy:
    """A stand-in for a rule-set-backed policy: decides nothing is needed, and says which rule decided."""

    def __init__(self, rule_set_id: int):
        self.rule_set_id, self.decisions, self.seen = rule_set_id, [], []

    def prepare(self, session, *, work_order, at) -> None:
        self.seen.append(work_order.number)

    def requirements(self, reversal_fact: dict) -> list[SignatureRequirement]:
        self.decisions.append(DecisionRecord(self.rule_set_id, 1, "test", [{"rule_id": "none-needed"}], "0" * 64,
                                             {"reversal": [{"value": format(reversal_fact["value"], "f")}]}))
        return []


def test_a_policy_requiring_no_signature_executes_at_request_and_its_decision_is_kept(plant):
    order, l1, l2, posted = fefo_order(plant)
    with plant.sessions() as s:
        rule_set_id = s.scalar(select(RuleSet.id).where(RuleSet.kind == "REVERSAL_SIGNATURE"))
    policy = RecordedPolicy(rule_set_id)
    done = act(plant, plant.principal, reversals.request_reversal, trigger_id=posted.id, reason_code="TEST_RUN",
               comment=None, policy=policy)
    assert (done.status, done.required, policy.seen) == ("EXECUTED", [], ["WO-1"])
    with plant.sessions() as s:
        (decision,) = s.scalars(select(RuleDecision).where(RuleDecision.reversal_id == done.id)).all()
    assert (decision.rule_set_id, decision.work_order_id, decision.fired) == (rule_set_id, order.id,
                                                                            [{"rule_id": "none-needed"}])
    assert wip_balances(plant, l2, l1) == [D("5.000"), D("5.000")]
    assert_books_balance(plant)


@pytest.mark.parametrize("status, value, needs", [
    ("QUARANTINE", "1000", [(1, ("QA", "SUPERVISOR"))]),
    ("ON_HOLD", "1000.01", [(2, ("QA", "SUPERVISOR")), (1, ("QA",))]),
    ("RELEASED", "0", [(2, ("QA", "SUPERVISOR")), (1, ("QA",))]),
], ids=["small and quarantined", "worth more than 1000", "released output"])
def test_the_default_policy_asks_for_signatures_as_spec_section_6_ships_them(status, value, needs):
    asked = BuiltinReversalPolicy().requirements({"output_lot_status": status, "value": D(value)})
    assert [(r.count, r.roles) for r in asked] == needs


def test_two_supervisors_do_not_meet_a_requirement_for_one_qa():
    needs = BuiltinReversalPolicy().requirements({"output_lot_status": "RELEASED", "value": D(0)})
    assert unmet(needs, {"user:a": {"SUPERVISOR"}, "user:b": {"SUPERVISOR"}}) == [needs[1]]
    assert unmet(needs, {"user:a": {"SUPERVISOR"}, "user:c": {"QA"}}) == []
