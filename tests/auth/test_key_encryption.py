"""Private signing keys are encrypted at rest with a key from the environment or a file."""
from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from auth import keys
from auth.authenticate import Authenticator
from auth.config import AuthConfig
from kernel.database import unit_of_work
from models import AuditRecord, SigningKey
from tests.auth.conftest import bearer, given_client
from tests.auth.test_admin_and_config import run_cli
from tests.auth.test_authenticator import issue_client_token

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored_keys(sessions) -> list[dict]:
    with unit_of_work(sessions) as session:
        return [row.private_jwk for row in session.scalars(select(SigningKey).order_by(SigningKey.id))]


def test_with_an_encryption_key_a_signing_key_is_stored_sealed_and_still_signs_and_verifies(sessions, config):
    sealing = replace(config, key_encryption_keys=(NEW_KEY,))
    given_client(sessions)

    token = issue_client_token(sessions, sealing)

    stored, = stored_keys(sessions)
    assert set(stored) == {"kid", "alg", "public", "sealed"}
    assert "d" not in stored["public"] and "d" not in stored
    assert Authenticator(sealing, sessions).authenticate(bearer(token)).subject == "client:line-scanner"
    # Verifying needs only the public half: a node without the encryption key verifies too.
    assert Authenticator(config, sessions).authenticate(bearer(token)).subject == "client:line-scanner"


def test_a_plaintext_key_keeps_working_and_encrypt_keys_seals_it(sessions, config, database_url, monkeypatch):
    given_client(sessions)
    before = issue_client_token(sessions, config)  # no encryption key yet: stored in plain text
    assert "d" in stored_keys(sessions)[0]
    sealing = replace(config, key_encryption_keys=(NEW_KEY,))
    still_signing = issue_client_token(sessions, sealing)
    monkeypatch.setenv("BACKFLUSH_KEY_ENCRYPTION_KEY", NEW_KEY)

    code = run_cli(["encrypt-keys"], database_url=database_url, monkeypatch=monkeypatch)
    after = issue_client_token(sessions, sealing)

    assert code == 0
    stored, = stored_keys(sessions)
    assert "sealed" in stored and "d" not in stored
    for token in (before, still_signing, after):
        assert Authenticator(sealing, sessions).authenticate(bearer(token)).subject == "client:line-scanner"
    with unit_of_work(sessions) as session:
        audited = session.scalars(select(AuditRecord).where(AuditRecord.action == "signing_key.encrypted")).one()
        assert audited.entity_id == stored["kid"]


def test_encrypt_keys_reseals_under_a_new_encryption_key_listed_first(sessions, config, database_url, monkeypatch):
    given_client(sessions)
    issue_client_token(sessions, replace(config, key_encryption_keys=(OLD_KEY,)))
    monkeypatch.setenv("BACKFLUSH_KEY_ENCRYPTION_KEY", f"{NEW_KEY},{OLD_KEY}")

    assert run_cli(["encrypt-keys"], database_url=database_url, monkeypatch=monkeypatch) == 0
    token = issue_client_token(sessions, replace(config, key_encryption_keys=(NEW_KEY,)))

    assert Authenticator(config, sessions).authenticate(bearer(token)).kind == "client"


def test_a_sealed_key_without_its_encryption_key_is_a_clear_error(sessions, config):
    given_client(sessions)
    issue_client_token(sessions, replace(config, key_encryption_keys=(OLD_KEY,)))

    for wrong in ((), (NEW_KEY,)):
        with pytest.raises(keys.KeyEncryptionError) as refused:
            issue_client_token(sessions, replace(config, key_encryption_keys=wrong))
        assert "BACKFLUSH_KEY_ENCRYPTION_KEY" in str(refused.value)


def test_the_encryption_key_comes_from_the_environment_or_a_file(tmp_path):
    key_file = tmp_path / "kek"
    key_file.write_text(f"{NEW_KEY}\n{OLD_KEY}\n")

    assert AuthConfig.from_env({"BACKFLUSH_KEY_ENCRYPTION_KEY": NEW_KEY}).key_encryption_keys == (NEW_KEY,)
    assert AuthConfig.from_env({"BACKFLUSH_KEY_ENCRYPTION_KEY_FILE": str(key_file)}).key_encryption_keys == \
        (NEW_KEY, OLD_KEY)
    assert NEW_KEY not in repr(AuthConfig.from_env({"BACKFLUSH_KEY_ENCRYPTION_KEY": NEW_KEY}))
    with pytest.raises(ValueError):
        AuthConfig.from_env({"BACKFLUSH_KEY_ENCRYPTION_KEY": "not a fernet key"})
