"""E-signatures re-authenticate the signer (21 CFR Part 11 §11.200); repeated failures lock signing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auth.admin import create_client
from auth.principal import Principal
from backflush.governance.signatures import SignatureRequest, sign
from backflush.services.commands import command
from kernel.database import unit_of_work
from kernel.errors import DomainError
from models import AuditRecord, ESignature, SignatureFailure
from models.types import utcnow
from tests.auth.conftest import PASSWORD, given_user

RECORD = {"bom": "FG-100", "version": 3}


@pytest.fixture
def signer(sessions) -> Principal:
    user = given_user(sessions, "quinn", roles=["QA"], display_name="Quinn Adler")
    return Principal(subject="user:quinn", name="Quinn Adler", kind="user", roles=frozenset({"QA"}),
                     scopes=frozenset({"signatures:sign"}), sites=frozenset({"PL1"}), user_id=user.id)


def attempt_signature(sessions, principal, password=PASSWORD, meaning="Approved") -> str:
    """Signs RECORD as a command would; returns "SIGNED" or the refusal's code."""
    try:
        with command(sessions, principal) as session:
            sign(session, principal=principal, request=SignatureRequest(meaning=meaning, password=password),
                 record_type="bom", record_id=7, content=RECORD)
            session.commit()
    except DomainError as refused:
        return refused.code
    return "SIGNED"


def audit_actions(sessions) -> list[str]:
    with unit_of_work(sessions) as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


def test_the_right_password_stores_a_signature_with_name_time_meaning_and_record_hash(sessions, signer):
    assert attempt_signature(sessions, signer) == "SIGNED"

    with unit_of_work(sessions) as session:
        signature = session.scalars(select(ESignature)).one()
        assert (signature.signer_name, signature.meaning, signature.signer_id) == \
            ("Quinn Adler", "Approved", "user:quinn")
        assert len(signature.record_hash) == 64 and signature.signed_at.tzinfo is not None
    assert "esignature.signed" in audit_actions(sessions)


def test_a_wrong_password_is_refused_as_signature_invalid_and_remembered(sessions, signer):
    assert attempt_signature(sessions, signer, password="not my password") == "SIGNATURE_INVALID"

    with unit_of_work(sessions) as session:
        assert session.scalars(select(ESignature)).first() is None
        assert len(session.scalars(select(SignatureFailure)).all()) == 1
    assert audit_actions(sessions).count("esignature.failed") == 1


def test_five_failures_in_fifteen_minutes_lock_signing_even_with_the_right_password(sessions, signer):
    results = [attempt_signature(sessions, signer, password=f"guess {n}") for n in range(5)]

    assert results == ["SIGNATURE_INVALID"] * 5
    assert attempt_signature(sessions, signer) == "SIGNATURE_LOCKED"
    actions = audit_actions(sessions)
    assert actions.count("esignature.failed") == 5
    assert actions.count("esignature.locked") == 1
    assert actions[-2:] == ["esignature.failed", "esignature.locked"]  # locked by the fifth failure


def test_four_failures_do_not_lock(sessions, signer):
    for n in range(4):
        attempt_signature(sessions, signer, password=f"guess {n}")

    assert "esignature.locked" not in audit_actions(sessions)
    assert attempt_signature(sessions, signer) == "SIGNED"


def test_failures_older_than_fifteen_minutes_no_longer_count(sessions, signer):
    with unit_of_work(sessions) as session:
        for minutes in (16, 17, 18, 19, 20):
            session.add(SignatureFailure(user_id=signer.user_id, at=utcnow() - timedelta(minutes=minutes)))
        session.commit()

    assert attempt_signature(sessions, signer) == "SIGNED"


def test_a_signature_states_its_meaning(sessions, signer):
    assert attempt_signature(sessions, signer, meaning="  ") == "SIGNATURE_MEANING_REQUIRED"


def test_a_machine_client_can_never_sign(sessions):
    client = Principal(subject="client:line-scanner", name="Line Scanner", kind="client",
                       scopes=frozenset({"signatures:sign", "admin"}), sites=frozenset({"*"}))

    assert attempt_signature(sessions, client) == "SIGNATURE_NOT_ALLOWED"


def test_a_machine_client_cannot_even_be_granted_the_signing_scope(sessions):
    with unit_of_work(sessions) as session, pytest.raises(DomainError) as refused:
        create_client(session, client_id="robot", name="Robot", scopes=["signatures:sign"], sites=["*"],
                      grant_types=["client_credentials"])

    assert refused.value.code == "SCOPE_NOT_FOR_CLIENTS"


def test_an_external_user_signs_only_within_five_minutes_of_signing_in_at_their_provider(sessions):
    def external(minutes_ago: int) -> Principal:
        return Principal(subject="user:alice@idp.test", name="Alice Moreau", kind="user", roles=frozenset({"QA"}),
                         issuer="https://idp.test", auth_time=int(utcnow().timestamp()) - minutes_ago * 60)

    assert attempt_signature(sessions, external(minutes_ago=6), password=None) == "SIGNATURE_REAUTH_REQUIRED"
    assert attempt_signature(sessions, external(minutes_ago=1), password=None) == "SIGNED"


def test_twelve_concurrent_wrong_attempts_check_exactly_five_passwords(sessions, signer, monkeypatch):
    """Given 12 wrong signatures at once, when they race, then 5 passwords are checked and 7 are locked out."""
    import threading
    import time

    import auth.signature_attempts

    checks, real_verify = [], auth.signature_attempts.verify_password

    def slow_verify(password_hash, password):
        checks.append(password)
        time.sleep(0.05)  # a slow hash widens the window in which a racing attempt could slip through
        return real_verify(password_hash, password)
    monkeypatch.setattr(auth.signature_attempts, "verify_password", slow_verify)
    start, results = threading.Barrier(12), []

    def attempt(n: int) -> None:
        start.wait()
        results.append(attempt_signature(sessions, signer, password=f"guess {n}"))
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(checks) == 5
    assert sorted(results) == ["SIGNATURE_INVALID"] * 5 + ["SIGNATURE_LOCKED"] * 7
    with unit_of_work(sessions) as session:
        assert len(session.scalars(select(SignatureFailure)).all()) == 5
    actions = audit_actions(sessions)
    assert (actions.count("esignature.failed"), actions.count("esignature.locked")) == (5, 1)
