"""Expired codes, refresh-token families and old failure counts are purged; whatever still counts stays."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kernel.database import unit_of_work
from models import AuditRecord, AuthorizationCode, RefreshToken, SignatureFailure, SignInFailure
from models.types import utcnow
from tests.auth.conftest import given_user
from tests.auth.test_admin_and_config import run_cli


def code(user_id: int, name: str, expires_in: timedelta, used=False) -> AuthorizationCode:
    return AuthorizationCode(code=name, client_id="app", user_id=user_id, redirect_uri="https://app.test/cb",
                             scope="triggers:write", auth_time=utcnow(), expires_at=utcnow() + expires_in, used=used)


def token(user_id: int, name: str, family: str, expires_in: timedelta, revoked=False) -> RefreshToken:
    return RefreshToken(token_hash=name, family_id=family, client_id="app", user_id=user_id, scope="triggers:write",
                        auth_time=utcnow(), expires_at=utcnow() + expires_in, revoked=revoked)


def test_purge_expired_removes_what_can_no_longer_be_used_and_keeps_what_still_counts(
        sessions, database_url, monkeypatch, capsys):
    user_id = given_user(sessions, "olivia").id
    minute, hour = timedelta(minutes=1), timedelta(hours=1)
    with unit_of_work(sessions) as session:
        session.add_all([
            code(user_id, "expired-used", -minute, used=True), code(user_id, "expired-unused", -minute),
            code(user_id, "live", minute),
            # family A is wholly expired; family B still has a live member, so its spent tokens must stay
            # for replay detection
            token(user_id, "a1", "A", -hour, revoked=True), token(user_id, "a2", "A", -minute),
            token(user_id, "b1", "B", -minute, revoked=True), token(user_id, "b2", "B", hour),
            SignInFailure(username="olivia", address="10.0.0.1", at=utcnow() - 2 * hour),
            SignInFailure(username="olivia", address="10.0.0.1", at=utcnow() - 10 * minute),
            SignatureFailure(user_id=user_id, at=utcnow() - hour),
            SignatureFailure(user_id=user_id, at=utcnow() - minute),
        ])
        session.commit()

    exit_code = run_cli(["purge-expired"], database_url=database_url, monkeypatch=monkeypatch)

    assert exit_code == 0
    assert capsys.readouterr().out.strip() == (
        "purged: 2 authorization codes, 2 refresh tokens, 1 sign-in failures, 1 signature failures")
    with unit_of_work(sessions) as session:
        assert session.scalars(select(AuthorizationCode.code)).all() == ["live"]
        assert sorted(session.scalars(select(RefreshToken.token_hash))) == ["b1", "b2"]
        assert len(session.scalars(select(SignInFailure)).all()) == 1
        assert len(session.scalars(select(SignatureFailure)).all()) == 1
        purged = session.scalars(select(AuditRecord).where(AuditRecord.action == "identity.purged")).one()
        assert purged.after == {"authorization_codes": 2, "refresh_tokens": 2, "sign_in_failures": 1,
                                "signature_failures": 1}


def test_purging_twice_purges_nothing_the_second_time(sessions, database_url, monkeypatch, capsys):
    given_user(sessions, "olivia")
    run_cli(["purge-expired"], database_url=database_url, monkeypatch=monkeypatch)
    capsys.readouterr()

    assert run_cli(["purge-expired"], database_url=database_url, monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.strip() == (
        "purged: 0 authorization codes, 0 refresh tokens, 0 sign-in failures, 0 signature failures")
