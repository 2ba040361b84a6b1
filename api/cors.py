"""CORS for front ends served from their own origins: Starlette's CORSMiddleware, on the API's paths only.

Browser apps send bearer tokens, never cookies, so credentials stay disallowed. The login page
(`/oauth/authorize`) is a top-level navigation, not a fetch: it stays same-origin, as does everything
else not listed here.
"""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

OPENED_PATHS = frozenset({"/graphql", "/oauth/token"})
OPENED_PREFIX = "/.well-known/"
PREFLIGHT_CACHE_SECONDS = 3600


class BrowserAppCors:
    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]):
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=origins, allow_methods=("GET", "POST"), allow_credentials=False,
            allow_headers=("Authorization", "Content-Type", "X-Request-ID"), expose_headers=("X-Request-ID", "Server-Timing"),
            max_age=PREFLIGHT_CACHE_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        opened = scope["type"] == "http" and (scope["path"] in OPENED_PATHS or scope["path"].startswith(OPENED_PREFIX))
        await (self.cors if opened else self.app)(scope, receive, send)


def open_to_browser_apps(app: Starlette, origins: tuple[str, ...]) -> None:
    """Outermost, so that every answer on these paths — a 401 included — is readable by a listed origin."""
    if origins:
        app.add_middleware(BrowserAppCors, origins=origins)
