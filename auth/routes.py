"""HTTP endpoints of the embedded authorization server, as Starlette routes for the app factory to mount."""
from __future__ import annotations

import hmac
import html
import logging
import secrets

from authlib.oauth2.rfc6749 import OAuth2Error
from joserfc.jwk import KeySetSerialization
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from auth import keys
from auth.config import AuthConfig
from auth.oauth_server import BackflushAuthorizationServer, HttpRequestData
from auth.scopes import SCOPES
from auth.sign_in import Refusal, SignInRefused, sign_in
from auth.tokens import ResourceOwner
from kernel.database import unit_of_work

log = logging.getLogger(__name__)

CSRF_COOKIE = "bf_login_csrf"
PAGE_HEADERS = {
    "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
    # No form-action: browsers would then block the redirect back to the client after sign-in.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}
LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Backflush</title>
<style>body{{font-family:sans-serif;max-width:22rem;margin:4rem auto}}
label,input,button{{display:block;width:100%;margin:.4rem 0}}.error{{color:#b00020}}</style></head>
<body><h1>Sign in</h1><p>{client} asks for: {scopes}</p>{error}
<form method="post" action="{action}">
<input type="hidden" name="csrf" value="{csrf}">
<label>User name <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>"""
ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in request refused</title></head>
<body><h1>This sign-in request cannot be served</h1><p>{error}: {description}</p></body></html>"""


def auth_routes(config: AuthConfig, sessions: sessionmaker[Session]) -> list[Route]:
    endpoints = _Endpoints(config, sessions)
    return [
        Route("/oauth/token", endpoints.token, methods=["POST"]),
        Route("/oauth/authorize", endpoints.authorize, methods=["GET", "POST"]),
        Route("/.well-known/jwks.json", endpoints.jwks, methods=["GET"]),
        Route("/.well-known/openid-configuration", endpoints.metadata, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", endpoints.metadata, methods=["GET"]),
    ]


class _Endpoints:
    def __init__(self, config: AuthConfig, sessions: sessionmaker[Session]):
        self.config = config
        self.sessions = sessions

    async def token(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=50)
        snapshot = HttpRequestData("POST", str(request.url), request.headers, _text_items(form))
        return await run_in_threadpool(self._issue_token, snapshot)

    async def authorize(self, request: Request) -> Response:
        snapshot = HttpRequestData(request.method, str(request.url), request.headers,
                                   list(request.query_params.multi_items()))
        if request.method == "GET":
            return await run_in_threadpool(self._show_login, snapshot)
        form = dict(_text_items(await request.form(max_files=0, max_fields=10)))
        address = request.client.host if request.client else "unknown"
        return await run_in_threadpool(self._sign_in, snapshot, form, request.cookies.get(CSRF_COOKIE, ""), address)

    async def jwks(self, request: Request) -> Response:
        document = await run_in_threadpool(self._jwks_document)
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=60"})

    async def metadata(self, request: Request) -> Response:
        return JSONResponse(server_metadata(self.config))

    def _issue_token(self, snapshot: HttpRequestData) -> Response:
        with unit_of_work(self.sessions) as session:
            server = BackflushAuthorizationServer(session, self.config)
            try:
                response = server.create_token_response(snapshot)
            except OAuth2Error as error:  # authlib refuses plain http before its own error handling
                return server.handle_error_response(None, error)
            if response.status_code < 400 or server.commit_despite_refusal:
                session.commit()
            return response

    def _show_login(self, snapshot: HttpRequestData) -> Response:
        with unit_of_work(self.sessions) as session:
            server = BackflushAuthorizationServer(session, self.config)
            try:
                grant = server.get_consent_grant(snapshot)
            except OAuth2Error as error:
                return _refusal(server, error)
            return _login_page(snapshot, grant)

    def _sign_in(self, snapshot: HttpRequestData, form: dict[str, str], csrf_cookie: str, address: str) -> Response:
        with unit_of_work(self.sessions) as session:
            server = BackflushAuthorizationServer(session, self.config)
            try:
                grant = server.get_consent_grant(snapshot)
            except OAuth2Error as error:
                return _refusal(server, error)
            if not csrf_cookie or not hmac.compare_digest(form.get("csrf", ""), csrf_cookie):
                return _login_page(snapshot, grant, error="The sign-in form expired; please try again.")
            try:
                user = sign_in(session, username=form.get("username", "")[:120], password=form.get("password", ""),
                               address=address, now=server.now())
            except SignInRefused as refused:
                session.commit()  # the failure is remembered, the command refused
                log.info("sign-in refused (%s) for %r from %s", refused.refusal, form.get("username", "")[:120], address)
                return _refused_sign_in(snapshot, grant, refused)
            owner = ResourceOwner(user=user, auth_time=self.config.now())
            response = server.create_authorization_response(grant.request, grant_user=owner, grant=grant)
            session.commit()
            response.delete_cookie(CSRF_COOKIE, path="/oauth/authorize")
            return response

    def _jwks_document(self) -> KeySetSerialization:
        with unit_of_work(self.sessions) as session:
            return keys.jwks_document(keys.published_keys(session, self.config))


SIGN_IN_REFUSALS = {
    Refusal.WRONG: (200, "Wrong user name or password."),
    Refusal.TOO_EARLY: (429, "Too many failed sign-ins: wait {retry_after} s, then try again."),
    Refusal.LOCKED: (403, "This account is locked after repeated failed sign-ins; an administrator can unlock it."),
}


def _refused_sign_in(snapshot: HttpRequestData, grant, refused: SignInRefused) -> Response:
    status, message = SIGN_IN_REFUSALS[refused.refusal]
    response = _login_page(snapshot, grant, error=message.format(retry_after=refused.retry_after))
    response.status_code = status
    if refused.retry_after:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


def server_metadata(config: AuthConfig) -> dict:
    return {
        "issuer": config.issuer,
        "authorization_endpoint": config.endpoint("/oauth/authorize"),
        "token_endpoint": config.endpoint("/oauth/token"),
        "jwks_uri": config.endpoint("/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": sorted(SCOPES),
        "subject_types_supported": ["public"],
    }


def _login_page(snapshot: HttpRequestData, grant, error: str | None = None) -> Response:
    csrf = secrets.token_urlsafe(24)
    client = grant.request.client
    body = LOGIN_PAGE.format(
        client=html.escape(client.name), scopes=html.escape(grant.request.scope or "(none)"),
        error=f'<p class="error">{html.escape(error)}</p>' if error else "",
        action=html.escape(_path_and_query(snapshot.url)), csrf=csrf,
    )
    response = HTMLResponse(body, headers=PAGE_HEADERS)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/oauth/authorize",
                        secure=snapshot.url.startswith("https:"))
    return response


def _refusal(server: BackflushAuthorizationServer, error: OAuth2Error) -> Response:
    # Errors go back to the client only once its redirect URI is known to be registered (RFC 6749 §4.1.2.1).
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    body = ERROR_PAGE.format(error=html.escape(error.error or "invalid_request"),
                             description=html.escape(error.description or ""))
    return HTMLResponse(body, status_code=400, headers=PAGE_HEADERS)


def _path_and_query(url: str) -> str:
    _, _, rest = url.partition("://")
    return "/" + rest.partition("/")[2]


def _text_items(form) -> list[tuple[str, str]]:
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
