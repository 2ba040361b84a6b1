"""Administrators create people and clients and rotate keys from the shell; settings come from the environment."""
from __future__ import annotations

import argparse
import io
import json
import re

import pytest
from sqlalchemy import select

from auth import admin
from auth.cli import register
from auth.config import AuthConfig
from kernel.database import unit_of_work
from kernel.errors import DomainError
from models import AuditRecord, OAuthClient, SigningKey, User
from tests.auth.conftest import PASSWORD, given_user


def run_cli(argv, *, database_url, monkeypatch, stdin="") -> int:
    monkeypatch.setenv("BACKFLUSH_DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    parser = argparse.ArgumentParser(prog="backflush")
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.anyio
async def test_create_client_prints_a_secret_once_that_then_obtains_tokens(
        database_url, sessions, monkeypatch, capsys, http):
    code = run_cli(["create-client", "--client-id", "erp-bridge", "--name", "ERP bridge",
                    "--scope", "inventory:write", "--site", "PL1"], database_url=database_url, monkeypatch=monkeypatch)

    secret = re.search(r"client secret .*: (\S+)", capsys.readouterr().out).group(1)
    response = await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("erp-bridge", secret))
    assert code == 0 and response.status_code == 200, response.text
    with unit_of_work(sessions) as session:
        stored = session.scalars(select(OAuthClient)).one()
        assert secret not in stored.client_secret_hash and stored.client_secret_hash.startswith("$argon2")


def test_create_user_reads_the_password_from_stdin_and_audits_the_operator(
        database_url, sessions, monkeypatch):
    code = run_cli(["create-user", "--username", "quinn", "--display-name", "Quinn Adler", "--role", "QA",
                    "--site", "PL1", "--password-stdin"], database_url=database_url, monkeypatch=monkeypatch,
                   stdin=PASSWORD + "\n")

    assert code == 0
    with unit_of_work(sessions) as session:
        user = session.scalars(select(User)).one()
        assert (user.roles, user.sites) == (["QA"], ["PL1"]) and PASSWORD not in user.password_hash
        created = session.scalars(select(AuditRecord).where(AuditRecord.action == "user.created")).one()
        assert created.actor.startswith("cli:")


def test_a_refused_command_exits_non_zero_and_says_why(database_url, monkeypatch, capsys):
    code = run_cli(["create-user", "--username", "x", "--display-name", "X", "--password-stdin"],
                   database_url=database_url, monkeypatch=monkeypatch, stdin="short\n")

    assert code == 2 and "PASSWORD_TOO_SHORT" in capsys.readouterr().err


def test_rotate_keys_retires_the_signing_key_and_starts_a_new_one(database_url, sessions, monkeypatch):
    for _ in range(2):
        assert run_cli(["rotate-keys", "--alg", "ES256"], database_url=database_url, monkeypatch=monkeypatch) == 0

    with unit_of_work(sessions) as session:
        rows = session.scalars(select(SigningKey).order_by(SigningKey.id)).all()
        assert [row.retired_at is None for row in rows] == [False, True]
        assert len(session.scalars(select(AuditRecord).where(AuditRecord.action == "signing_key.rotated")).all()) == 2


@pytest.mark.parametrize("change, code", [
    ({"username": "olivia"}, "USERNAME_TAKEN"),
    ({"roles": ["OVERLORD"]}, "UNKNOWN_ROLE"),
    ({"password": "too short"}, "PASSWORD_TOO_SHORT"),
])
def test_a_user_is_refused_for_a_broken_rule(sessions, change, code):
    given_user(sessions, "olivia")
    fields = {"username": "noah", "display_name": "Noah", "password": PASSWORD, "roles": ["OPERATOR"],
              "sites": ["PL1"], **change}

    with unit_of_work(sessions) as session, pytest.raises(DomainError) as refused:
        admin.create_user(session, **fields)

    assert refused.value.code == code


@pytest.mark.parametrize("change, code", [
    ({"scopes": ["everything"]}, "UNKNOWN_SCOPE"),
    ({"grant_types": ["password"]}, "UNKNOWN_GRANT_TYPE"),
    ({"grant_types": ["authorization_code"]}, "REDIRECT_URI_REQUIRED"),
    ({"public": True}, "PUBLIC_CLIENT_CREDENTIALS"),
])
def test_a_client_is_refused_for_a_broken_rule(sessions, change, code):
    fields = {"client_id": "robot", "name": "Robot", "scopes": ["triggers:write"], "sites": ["PL1"],
              "grant_types": ["client_credentials"], **change}

    with unit_of_work(sessions) as session, pytest.raises(DomainError) as refused:
        admin.create_client(session, **fields)

    assert refused.value.code == code


def test_settings_come_from_the_environment():
    trusted = [{"issuer": "https://idp.test/realms/plant", "jwks_url": "https://idp.test/certs",
                "audience": "backflush", "roles_claim": "realm_access.roles"}]

    config = AuthConfig.from_env({
        "BACKFLUSH_AUTH_ISSUER": "https://mes.plant.test/", "BACKFLUSH_AUTH_AUDIENCE": "mes-api",
        "BACKFLUSH_ACCESS_TOKEN_LIFETIME": "600", "BACKFLUSH_SIGNING_ALG": "ES256",
        "BACKFLUSH_TRUSTED_ISSUERS": json.dumps(trusted),
    })

    assert (config.issuer, config.audience, config.access_token_lifetime) == ("https://mes.plant.test", "mes-api", 600)
    issuer = config.trusted_issuer("https://idp.test/realms/plant")
    assert issuer.roles_claim == "realm_access.roles" and issuer.sites_claim == "sites"


@pytest.mark.parametrize("environ", [
    {"BACKFLUSH_SIGNING_ALG": "HS256"},
    {"BACKFLUSH_TRUSTED_ISSUERS": '[{"issuer": "https://idp.test"}]'},
    {"BACKFLUSH_ACCESS_TOKEN_LIFETIME": "0"},
])
def test_broken_settings_stop_the_start(environ):
    with pytest.raises(ValueError):
        AuthConfig.from_env(environ)
