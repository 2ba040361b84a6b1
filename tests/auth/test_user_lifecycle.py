"""Access changes are recorded (EU GMP Annex 11 §12.3) and take effect on tokens already issued."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from auth import admin
from kernel.database import unit_of_work
from kernel.errors import DomainError
from models import AuditRecord
from tests.auth.conftest import bearer, given_user
from tests.auth.test_admin_and_config import run_cli
from tests.auth.test_authenticator import rejection
from tests.auth.test_authorization_code import given_app, refresh, signed_in_tokens

pytestmark = pytest.mark.anyio


def audit_actions(sessions) -> list[str]:
    with unit_of_work(sessions) as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


def audit_row(sessions, action: str) -> dict:
    with unit_of_work(sessions) as session:
        row = session.scalars(select(AuditRecord).where(AuditRecord.action == action)).one()
        return {"actor": row.actor, "before": row.before, "after": row.after, "reason": row.reason}


async def test_deactivating_a_user_stops_their_tokens_at_once_and_records_why(
        http, sessions, authenticator, database_url, monkeypatch):
    secret = given_app(sessions)
    given_user(sessions, "olivia")
    tokens = await signed_in_tokens(http, secret)
    assert authenticator.authenticate(bearer(tokens["access_token"])).subject == "user:olivia"

    code = run_cli(["deactivate-user", "--username", "olivia", "--reason", "left the company"],
                   database_url=database_url, monkeypatch=monkeypatch)

    assert code == 0
    assert rejection(authenticator, bearer(tokens["access_token"])) == "user_inactive"
    assert (await refresh(http, secret, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    deactivated = audit_row(sessions, "user.deactivated")
    assert deactivated["actor"].startswith("cli:") and deactivated["reason"] == "left the company"
    assert (deactivated["before"], deactivated["after"]) == \
        ({"active": True}, {"active": False, "refresh_tokens_revoked": 1})


async def test_a_reactivated_user_signs_in_again_with_a_new_sign_in_only(
        http, sessions, authenticator, database_url, monkeypatch):
    secret = given_app(sessions)
    given_user(sessions, "olivia")
    old = await signed_in_tokens(http, secret)
    run_cli(["deactivate-user", "--username", "olivia", "--reason", "on leave"], database_url=database_url,
            monkeypatch=monkeypatch)

    code = run_cli(["reactivate-user", "--username", "olivia", "--reason", "back from leave"],
                   database_url=database_url, monkeypatch=monkeypatch)
    new = await signed_in_tokens(http, secret)

    assert code == 0 and audit_row(sessions, "user.reactivated")["reason"] == "back from leave"
    assert (await refresh(http, secret, old["refresh_token"])).json()["error"] == "invalid_grant"
    assert authenticator.authenticate(bearer(new["access_token"])).subject == "user:olivia"


async def test_a_role_change_is_recorded_and_narrows_tokens_already_issued(
        http, sessions, authenticator, database_url, monkeypatch):
    secret = given_app(sessions)
    given_user(sessions, "olivia", roles=["OPERATOR", "SUPERVISOR"], sites=["PL1", "PL2"])
    tokens = await signed_in_tokens(http, secret)
    before = authenticator.authenticate(bearer(tokens["access_token"]))

    code = run_cli(["change-access", "--username", "olivia", "--role", "OPERATOR", "--site", "PL1",
                    "--reason", "moved back to line 1"], database_url=database_url, monkeypatch=monkeypatch)
    after = authenticator.authenticate(bearer(tokens["access_token"]))

    assert code == 0
    assert (before.roles, before.sites) == ({"OPERATOR", "SUPERVISOR"}, {"PL1", "PL2"})
    assert "reports:read" in before.scopes
    assert (after.roles, after.sites) == ({"OPERATOR"}, {"PL1"})
    assert after.scopes == {"triggers:write", "genealogy:read", "inventory:write", "signatures:sign"}
    changed = audit_row(sessions, "user.access_changed")
    assert (changed["before"], changed["after"], changed["reason"]) == (
        {"roles": ["OPERATOR", "SUPERVISOR"], "sites": ["PL1", "PL2"]},
        {"roles": ["OPERATOR"], "sites": ["PL1"]}, "moved back to line 1")


@pytest.mark.parametrize("change, code", [
    (lambda s: admin.change_access(s, username="olivia", roles=["QA"], reason="  "), "REASON_REQUIRED"),
    (lambda s: admin.change_access(s, username="olivia", roles=["OVERLORD"], reason="why"), "UNKNOWN_ROLE"),
    (lambda s: admin.deactivate_user(s, username="nobody", reason="why"), "USER_NOT_FOUND"),
    (lambda s: admin.reactivate_user(s, username="olivia", reason="why"), "USER_ALREADY_ACTIVE"),
    (lambda s: admin.unlock_user(s, username="olivia", reason="why"), "USER_NOT_LOCKED"),
])
def test_an_access_change_is_refused_for_a_broken_rule_and_changes_nothing(sessions, change, code):
    given_user(sessions, "olivia")
    audited = audit_actions(sessions)

    with unit_of_work(sessions) as session, pytest.raises(DomainError) as refused:
        change(session)
        session.commit()

    assert refused.value.code == code
    assert audit_actions(sessions) == audited
