"""The bench as a client of the served API: identities made with the CLI, tokens from /oauth/token, GraphQL calls.

A person (the bench administrator, who signs the BOM approvals) signs in through the login form with
the authorization-code flow and PKCE, as a front-end app would; the line integrations that post
triggers use the client-credentials grant, as a machine on the shop floor would.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from bench.server import backflush_commands
from bench.wrong_run import WrongRun

ADMIN_USER, ADMIN_PASSWORD = "bench-admin", "bench-admin-password-1"
APP_CLIENT, REDIRECT_URI = "bench-console", "http://127.0.0.1/bench-callback"
APP_SCOPES = ("admin", "signatures:sign")
LINE_CLIENT = "bench-line"
LINE_SCOPES = ("triggers:write", "production:read", "genealogy:read")


@dataclass(frozen=True)
class Identities:
    line_secret: str


def create_identities(database_url: str) -> Identities:
    """The bench's administrator, its console app and one line integration, made with `backflush create-…`."""
    admin = ("create-user", "--username", ADMIN_USER, "--display-name", "Bench Administrator", "--role", "ADMIN",
             "--site", "*", "--password-stdin")
    console = ("create-client", "--client-id", APP_CLIENT, "--name", "Bench console", "--public", "--site", "*",
               "--grant-type", "authorization_code", "--redirect-uri", REDIRECT_URI,
               *[arg for scope in APP_SCOPES for arg in ("--scope", scope)])
    line = ("create-client", "--client-id", LINE_CLIENT, "--name", "Bench line", "--site", "*",
            *[arg for scope in LINE_SCOPES for arg in ("--scope", scope)])
    *_, printed = backflush_commands((admin, ADMIN_PASSWORD + "\n"), (console, None), (line, None),
                                     database_url=database_url)
    secret = re.search(r"client secret \(shown once[^)]*\): (\S+)", printed)
    if secret is None:
        raise RuntimeError(f"create-client printed no secret: {printed}")
    return Identities(line_secret=secret.group(1))


def sign_in(base_url: str) -> str:
    """The administrator's access token: login form, then code + PKCE (S256) exchanged at /oauth/token."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": APP_CLIENT, "redirect_uri": REDIRECT_URI, "state": "bench",
              "scope": " ".join(APP_SCOPES), "code_challenge": challenge, "code_challenge_method": "S256"}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        page = http.get("/oauth/authorize", params=params)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if page.status_code != 200 or csrf is None:
            raise RuntimeError(f"login form refused: {page.status_code} {page.text[:300]}")
        answer = http.post("/oauth/authorize", params=params,
                           data={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf": csrf.group(1)})
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in refused: {answer.status_code} {answer.text[:300]}")
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        tokens = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                 "redirect_uri": REDIRECT_URI, "client_id": APP_CLIENT,
                                                 "code_verifier": verifier})
    return _access_token(tokens)


def line_token(base_url: str, identities: Identities) -> str:
    tokens = httpx.post(f"{base_url}/oauth/token", auth=(LINE_CLIENT, identities.line_secret), timeout=30,
                        data={"grant_type": "client_credentials", "scope": " ".join(LINE_SCOPES)})
    return _access_token(tokens)


def _access_token(response: httpx.Response) -> str:
    if response.status_code != 200:
        raise RuntimeError(f"/oauth/token refused: {response.status_code} {response.text[:300]}")
    return response.json()["access_token"]


class GraphQLError(WrongRun):
    """A request the bench expected to succeed did not: errors, userErrors or an HTTP failure."""


class GraphQL:
    """One keep-alive HTTP connection to /graphql with one bearer token."""

    def __init__(self, base_url: str, token: str):
        self.http = httpx.Client(base_url=base_url, timeout=120, headers={"Authorization": f"Bearer {token}"})

    def post(self, query: str, variables: dict | None = None) -> httpx.Response:
        return self.http.post("/graphql", json={"query": query, "variables": variables or {}})

    def __call__(self, query: str, **variables) -> dict:
        response = self.post(query, variables)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or body.get("errors") or body.get("data") is None:
            raise GraphQLError(f"HTTP {response.status_code}: {body.get('errors') or response.text[:500]}")
        refused = [(name, payload["userErrors"]) for name, payload in body["data"].items()
                   if isinstance(payload, dict) and payload.get("userErrors")]
        if refused:
            raise GraphQLError(f"refused: {refused[:3]}")
        return body["data"]

    def close(self) -> None:
        self.http.close()
