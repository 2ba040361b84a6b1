"""The embedded OAuth 2 authorization server: authlib's framework-neutral core bound to our tables.

authlib has no Starlette integration, so routes snapshot the HTTP request (Starlette reads forms
asynchronously, authlib is synchronous) and build one server per request around that request's
session. Grants: client_credentials (secret via HTTP Basic or form post), authorization_code with
PKCE S256 always required, refresh_token with rotation: every token rotated from one sign-in is of
one family, and a spent token presented again revokes its whole family (RFC 9700 §4.14.2).
"""
from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col
from starlette.responses import JSONResponse, Response

from auth import keys
from auth.config import AuthConfig
from auth.passwords import verify_password
from auth.scopes import SCOPES, format_scope, parse_scope
from auth.tokens import AccessTokenGenerator, ResourceOwner
from backflush.core.digests import sha256
from kernel import audit
from kernel.database import rows_changed
from models import AuthorizationCode, OAuthClient, RefreshToken, User

SECRET_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class HttpRequestData:
    """What authlib needs of an HTTP request, read before entering synchronous code."""

    method: str
    url: str
    headers: Mapping[str, str]  # case-insensitive (Starlette Headers)
    params: list[tuple[str, str]]  # the form body of POSTs, the query of GETs


class SnapshotPayload(OAuth2Payload):
    def __init__(self, params: list[tuple[str, str]]):
        self._datalist = defaultdict(list)
        for name, value in params:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self):
        return self._data

    @property
    def datalist(self):
        return self._datalist


class SnapshotRequest(OAuth2Request):
    def __init__(self, snapshot: HttpRequestData):
        super().__init__(method=snapshot.method, uri=snapshot.url, headers=snapshot.headers)
        self.payload = SnapshotPayload(snapshot.params)

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return self.payload.data


class RegisteredClient(ClientMixin):
    def __init__(self, row: OAuthClient):
        self.row = row
        self.name = row.name
        self.sites = frozenset(row.sites or ())
        self.scopes = frozenset(row.scopes or ())

    @property
    def is_public(self) -> bool:
        return self.row.token_endpoint_auth_method == "none"

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        uris = self.row.redirect_uris or []
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope):
        """All the client's scopes when none are asked for; None (→ invalid_scope) if it asks beyond them."""
        if scope is None:
            return format_scope(self.scopes)
        requested = parse_scope(scope)
        return format_scope(requested) if requested <= self.scopes else None

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in (self.row.redirect_uris or [])

    def check_client_secret(self, client_secret):
        return bool(self.row.client_secret_hash) and verify_password(self.row.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        if endpoint != "token":
            return False
        return method == "none" if self.is_public else method in SECRET_METHODS

    def check_response_type(self, response_type):
        return response_type == "code" and self.check_grant_type("authorization_code")

    def check_grant_type(self, grant_type):
        return grant_type in (self.row.grant_types or [])


class IssuedCode:
    """authlib's view of an AuthorizationCode row (its PKCE extension reads the challenge attributes)."""

    def __init__(self, row: AuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope


class IssuedRefreshToken:
    def __init__(self, row: RefreshToken):
        self.row = row

    def check_client(self, client):
        return self.row.client_id == client.get_client_id()

    def get_scope(self):
        return self.row.scope


def secret_digest(value: str) -> str:
    """Codes and refresh tokens are random and high-entropy: a plain SHA-256 suffices at rest."""
    return sha256(value)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS

    def validate_requested_scope(self):
        super().validate_requested_scope()
        client, scope = self.request.client, self.request.payload.scope
        if client.get_allowed_scope(scope) is None:
            beyond = format_scope(parse_scope(scope) - client.scopes)
            raise InvalidScopeError(f"the client may not have: {beyond}")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]

    def save_authorization_code(self, code, request):
        server, owner = self.server, request.user
        server.session.add(AuthorizationCode(
            code=secret_digest(code), client_id=request.client.get_client_id(), user_id=owner.user.id,
            redirect_uri=request.payload.redirect_uri or "", scope=request.scope or "",
            code_challenge=request.payload.data.get("code_challenge"),
            code_challenge_method=request.payload.data.get("code_challenge_method"),
            auth_time=_at(owner.auth_time), expires_at=server.now() + timedelta(
                seconds=server.config.authorization_code_lifetime),
        ))

    def query_authorization_code(self, code, client):
        query = select(AuthorizationCode).where(
            col(AuthorizationCode.code) == secret_digest(code),
            col(AuthorizationCode.client_id) == client.get_client_id(),
        ).with_for_update()
        row = self.server.session.scalars(query).first()
        if row is None or row.used or row.expires_at <= self.server.now():
            return None
        return IssuedCode(row)

    def delete_authorization_code(self, authorization_code):
        authorization_code.row.used = True  # marked, not deleted: the row records that the code was spent

    def authenticate_user(self, authorization_code):
        row = authorization_code.row
        return self.server.resource_owner(row.user_id, int(row.auth_time.timestamp()))


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token works once

    def authenticate_refresh_token(self, refresh_token):
        query = (select(RefreshToken).where(col(RefreshToken.token_hash) == secret_digest(refresh_token))
                 .with_for_update())
        row = self.server.session.scalars(query).first()
        if row is not None and row.revoked:
            self._revoke_family(row)  # a spent token came back: either its holder or a thief has a copy
            return None
        if row is None or row.expires_at <= self.server.now():
            return None
        return IssuedRefreshToken(row)

    def _revoke_family(self, row: RefreshToken) -> None:
        session = self.server.session
        revoked = rows_changed(session, update(RefreshToken).where(
            col(RefreshToken.family_id) == row.family_id, col(RefreshToken.revoked).is_(False)).values(revoked=True))
        if not revoked:
            return  # the family is dead already
        audit.record(session, actor=f"client:{self.request.client.get_client_id()}", action="refresh_token.reused",
                     entity_type="refresh_token_family", entity_id=row.family_id,
                     after={"user_id": row.user_id, "client_id": row.client_id, "revoked": revoked})
        self.server.commit_despite_refusal = True

    def authenticate_user(self, refresh_token):
        row = refresh_token.row
        # Roles and sites are read again now: a refreshed token reflects the user as they are today.
        return self.server.resource_owner(row.user_id, int(row.auth_time.timestamp()))

    def revoke_old_credential(self, refresh_token):
        refresh_token.row.revoked = True


class RequireS256(CodeChallenge):
    """PKCE for every client, confidential ones too, and only S256 (plain leaks the verifier)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


class BackflushAuthorizationServer(AuthorizationServer):
    def __init__(self, session: Session, config: AuthConfig):
        super().__init__(scopes_supported=sorted(SCOPES))
        self.session = session
        self.config = config
        self.commit_despite_refusal = False  # a refusal that revoked something must still be committed
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(AuthorizationCodeGrant, [RequireS256(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_token_generator("default", self._generate_token)

    def now(self) -> datetime:
        return _at(self.config.now())

    def query_client(self, client_id):
        row = self.session.scalars(select(OAuthClient).where(col(OAuthClient.client_id) == client_id)).first()
        return RegisteredClient(row) if row else None

    def resource_owner(self, user_id: int, auth_time: int) -> ResourceOwner | None:
        user = self.session.get(User, user_id)
        return ResourceOwner(user=user, auth_time=auth_time) if user and user.active else None

    def save_token(self, token, request):
        # Access tokens are self-contained JWTs; only refresh tokens need remembering.
        if "refresh_token" not in token:
            return
        rotated = getattr(request, "refresh_token", None)
        self.session.add(RefreshToken(
            token_hash=secret_digest(token["refresh_token"]),
            family_id=rotated.row.family_id if rotated else secrets.token_hex(16),
            client_id=request.client.get_client_id(),
            user_id=request.user.user.id if request.user else None, scope=token.get("scope", ""),
            auth_time=_at(request.user.auth_time) if request.user else self.now(),
            expires_at=self.now() + timedelta(seconds=self.config.refresh_token_lifetime),
        ))

    def create_oauth2_request(self, request):
        return request if isinstance(request, OAuth2Request) else SnapshotRequest(request)

    def handle_response(self, status, body, headers):
        headers = dict(headers)
        if isinstance(body, dict):
            headers.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=headers)
        return Response(body or "", status_code=status, headers=headers)

    def send_signal(self, name, *args, **kwargs):
        pass  # nothing listens; authlib calls this on client authentication

    def _generate_token(self, **context):
        signing_key = keys.active_signing_key(self.session, self.config)
        return AccessTokenGenerator(self.config, signing_key)(**context)


def _at(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)
