"""Configuration that cannot mislead: the issuer follows the served port, a client without a site is warned about."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import httpx
import pytest

from auth.config import issuer_port_warning, served_issuer
from auth.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tests.auth.test_admin_and_config import run_cli
from tests.ops import served

README = Path(__file__).resolve().parents[2] / "README.md"


def token_claims(base: str) -> dict:
    response = httpx.post(f"{base}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                          data={"grant_type": "client_credentials", "scope": "production:read"})
    assert response.status_code == 200, response.text
    payload = response.json()["access_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_tokens_and_discovery_name_the_served_port_when_no_issuer_is_configured(tmp_path):
    port = served.free_port()
    server = served.start([str(served.BIN / "backflush"), "serve", "--demo", "--port", str(port)], tmp_path=tmp_path,
                          env=served.environment(f"sqlite:///{tmp_path}/demo.db"), port=port)
    try:
        claims = token_claims(server.base)
        discovery = httpx.get(f"{server.base}/.well-known/openid-configuration").json()
    finally:
        server.stop()

    assert claims["iss"] == f"http://127.0.0.1:{port}"
    assert discovery["issuer"] == f"http://127.0.0.1:{port}"
    assert discovery["token_endpoint"] == f"http://127.0.0.1:{port}/oauth/token"
    assert discovery["jwks_uri"] == f"http://127.0.0.1:{port}/.well-known/jwks.json"


def test_a_configured_issuer_on_another_port_is_kept_and_warned_about_at_start(tmp_path):
    port = served.free_port()
    env = served.environment(f"sqlite:///{tmp_path}/demo.db", BACKFLUSH_AUTH_ISSUER="http://localhost:8000")
    server = served.start([str(served.BIN / "backflush"), "serve", "--demo", "--port", str(port)], tmp_path=tmp_path,
                          env=env, port=port)
    try:
        claims = token_claims(server.base)
    finally:
        server.stop()

    assert claims["iss"] == "http://localhost:8000"
    warnings = [line for line in json_lines(server.logs()) if line["level"] == "warning" and "ISSUER" in line["event"]]
    assert len(warnings) == 1 and "port 8000" in warnings[0]["event"] and f"port {port}" in warnings[0]["event"]


@pytest.mark.parametrize("host, port, issuer", [
    ("127.0.0.1", 8011, "http://127.0.0.1:8011"),
    ("localhost", 8000, "http://localhost:8000"),
    ("0.0.0.0", 8000, "http://localhost:8000"),
    ("::", 9000, "http://localhost:9000"),
    ("::1", 9000, "http://[::1]:9000"),
])
def test_the_issuer_of_a_server_without_one_configured_is_its_own_address(host, port, issuer):
    assert served_issuer(host, port) == issuer


@pytest.mark.parametrize("issuer, port, warned", [
    ("http://localhost:8000", 8011, True),
    ("http://localhost:8000", 8000, False),
    ("https://mes.plant.example", 443, False),
    ("https://mes.plant.example", 8000, True),  # right only behind a proxy forwarding 443 to 8000: said, not refused
    ("http://mes.plant.example", 80, False),
])
def test_an_issuer_naming_another_port_than_the_served_one_is_warned_about(issuer, port, warned):
    warning = issuer_port_warning(issuer, port)
    assert (warning is not None) is warned
    if warned:
        assert issuer in warning and f"port {port}" in warning


def test_create_client_without_a_site_warns_that_its_tokens_will_see_nothing(database_url, monkeypatch, capsys):
    code = run_cli(["create-client", "--client-id", "mes", "--name", "MES", "--scope", "production:read"],
                   database_url=database_url, monkeypatch=monkeypatch)

    assert code == 0
    err = capsys.readouterr().err
    assert "no --site" in err and "see nothing" in err


def test_create_client_with_a_site_says_nothing_about_sites(database_url, monkeypatch, capsys):
    code = run_cli(["create-client", "--client-id", "mes", "--name", "MES", "--scope", "production:read",
                    "--site", "PLANT-1"], database_url=database_url, monkeypatch=monkeypatch)

    assert code == 0 and capsys.readouterr().err == ""


def test_every_create_client_example_in_the_readme_names_a_site():
    commands = re.findall(r"create-client --client-id[^`]*`", README.read_text())
    assert len(commands) >= 2
    assert all("--site" in command for command in commands), commands


def test_the_readme_says_how_to_reach_the_backflush_command():
    text = README.read_text()
    assert "python3 dev.py backflush" in text and ".venv/bin/backflush" in text
