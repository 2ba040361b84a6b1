"""Lot disposition is a state machine: every (from, to, principal kind, role) cell, through the service.

The expectations below are written from issue 9 (not read from the code's table), so the two must agree:
any way into RELEASED is QA's, signed "Released", with a reason; REJECTED is final except a QA-signed
re-disposition; machine clients may put lots ON_HOLD but never release.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from auth.principal import Principal
from auth.scopes import ROLES
from backflush.services import receiving
from backflush.services.commands import command
from kernel.errors import DomainError
from models import AuditRecord, ESignature, Lot
from tests.builders import Plant, qa_user, signed

STATUSES = ("RELEASED", "QUARANTINE", "ON_HOLD", "REJECTED")
QA_SIGNS = {
    ("QUARANTINE", "RELEASED"): "Released", ("ON_HOLD", "RELEASED"): "Released", ("REJECTED", "RELEASED"): "Released",
    ("REJECTED", "QUARANTINE"): "Re-dispositioned",
    ("RELEASED", "REJECTED"): "Rejected", ("QUARANTINE", "REJECTED"): "Rejected", ("ON_HOLD", "REJECTED"): "Rejected",
}
ANYONE = {("RELEASED", "ON_HOLD"), ("QUARANTINE", "ON_HOLD")}
PEOPLE = {("RELEASED", "QUARANTINE"), ("ON_HOLD", "QUARANTINE")}
NEVER = {("REJECTED", "ON_HOLD")}
PRINCIPALS = [("CLIENT", None)] + [("USER", role) for role in sorted(ROLES)]
CELLS = [(a, b, kind, role) for a in STATUSES for b in STATUSES if a != b for kind, role in PRINCIPALS]


def test_the_expectations_name_every_pair_of_distinct_statuses_once():
    pairs = [set(QA_SIGNS), ANYONE, PEOPLE, NEVER]
    assert sum(map(len, pairs)) == 12 and set().union(*pairs) == {(a, b) for a in STATUSES for b in STATUSES if a != b}


def acting(sessions, kind: str, role: str | None) -> Principal:
    if kind == "CLIENT":
        return Principal(subject="client:line-7", name="Line 7", kind="client",
                         scopes=frozenset({"inventory:write"}), sites=frozenset({"*"}))
    return qa_user(sessions, role.lower(), roles=(role,))


def change(sessions, principal, lot, to: str, signature=None):
    with command(sessions, principal) as s:
        result = receiving.set_lot_status(s, principal, lot_id=lot.id, status=to, reason="cell under test",
                                          signature=signature)
        s.commit()
        return result


def refusal(sessions, principal, lot, to: str, signature=None) -> str:
    with pytest.raises(DomainError) as refused:
        change(sessions, principal, lot, to, signature)
    return refused.value.code


def state(sessions, lot) -> tuple[str, list[str], list[str]]:
    with sessions() as s:
        status = s.get(Lot, lot.id).status
        meanings = list(s.scalars(select(ESignature.meaning).where(ESignature.record_type == "lot",
                                                                   ESignature.record_id == lot.id)))
        reasons = list(s.scalars(select(AuditRecord.reason).where(AuditRecord.action == "lot.status_changed",
                                                                  AuditRecord.entity_id == str(lot.id))))
        return status, meanings, reasons


@pytest.mark.parametrize("from_status,to_status,kind,role", CELLS, ids=lambda v: str(v))
def test_every_cell_of_the_lot_status_table(sessions, from_status, to_status, kind, role):
    # given a lot in from_status, and a principal of that kind and role
    plant = Plant(sessions, qa_user(sessions, "receiver"))
    plant.item("API", "kg", 3)
    lot = plant.receive("API", "API-1", "5.000", status=from_status)
    principal = acting(sessions, kind, role)
    pair = (from_status, to_status)

    if pair in NEVER:
        assert refusal(sessions, principal, lot, to_status, signed("Released")) == "TRANSITION_NOT_ALLOWED"
    elif pair in ANYONE or (pair in PEOPLE and kind == "USER"):
        change(sessions, principal, lot, to_status)
        assert state(sessions, lot) == (to_status, [], ["cell under test"])
        return
    elif kind == "CLIENT":
        assert refusal(sessions, principal, lot, to_status) == "PERSON_REQUIRED"
    elif role != "QA":
        assert refusal(sessions, principal, lot, to_status, signed(QA_SIGNS[pair])) == "ROLE_REQUIRED"
    else:
        meaning = QA_SIGNS[pair]
        assert refusal(sessions, principal, lot, to_status) == "SIGNATURE_REQUIRED"
        assert refusal(sessions, principal, lot, to_status, signed("Approved")) == "SIGNATURE_MEANING_MISMATCH"
        assert refusal(sessions, principal, lot, to_status, signed(meaning, password="wrong")) == "SIGNATURE_INVALID"
        change(sessions, principal, lot, to_status, signed(meaning))
        assert state(sessions, lot) == (to_status, [meaning], ["cell under test"])
        return
    # then a refusal changes nothing
    assert state(sessions, lot) == (from_status, [], [])


@pytest.mark.parametrize("status", STATUSES)
def test_setting_the_status_a_lot_already_has_is_refused(sessions, status):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("API", "kg", 3)
    lot = plant.receive("API", "API-1", "5.000", status=status)
    assert refusal(sessions, plant.principal, lot, status, signed("Released")) == "STATUS_UNCHANGED"


def test_a_hold_then_release_without_qa_signature_no_longer_releases_a_quarantined_lot(sessions):
    # given a quarantined lot put ON_HOLD by an operator
    plant = Plant(sessions, qa_user(sessions))
    plant.item("API", "kg", 3)
    lot = plant.receive("API", "API-1", "5.000", status="QUARANTINE")
    operator = qa_user(sessions, "op", roles=("OPERATOR",))
    change(sessions, operator, lot, "ON_HOLD")
    # when anyone but QA, or QA without a signature, tries to release it, then it stays ON_HOLD
    assert refusal(sessions, operator, lot, "RELEASED") == "ROLE_REQUIRED"
    assert refusal(sessions, plant.principal, lot, "RELEASED") == "SIGNATURE_REQUIRED"
    assert state(sessions, lot)[0] == "ON_HOLD"


def test_an_exposed_return_never_lifts_a_rejected_lot_into_quarantine(sessions):
    from backflush.services.returns import quarantine

    plant = Plant(sessions, qa_user(sessions))
    plant.item("API", "kg", 3)
    lot = plant.receive("API", "API-1", "5.000", status="REJECTED")
    with command(sessions, plant.principal) as s:
        quarantine(s, plant.principal, s.get(Lot, lot.id), "EXPOSED")
        s.commit()
    assert state(sessions, lot)[0] == "REJECTED"
