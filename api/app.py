"""The app factory: everything (engine, schema, authenticator) is built here from settings."""
from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api.context import Context
from api.cors import open_to_browser_apps
from api.evidence_routes import evidence_routes
from api.graphiql import graphiql_assets, graphiql_page
from api.http_limits import BodySizeLimit, RateLimit
from api.json_encoding import encode_json
from api.loaders import Loaders
from api.metrics_route import metrics_routes
from api.query_limits import within_deadline
from api.request_ids import RequestIds
from api.schema import build_schema
from auth.principal import Principal, Unauthenticated
from kernel import instruments
from kernel.audit import checkpoints as audit_checkpoints
from kernel.database import build_engine, session_factory
from kernel.settings import Settings

log = logging.getLogger("backflush.api")

Authenticate = Callable[[str | None], Principal]


class BackflushGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context; authentication happened in the route guard."""

    def __init__(self, schema, *, sessions, settings: Settings, authenticate: Authenticate):
        # Browsers on other origins may open subscriptions only from the CORS list (strawberry checks `Origin`).
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None, allow_queries_via_get=False,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), allowed_origins=settings.cors_origins)
        self.sessions, self.settings, self.authenticate = sessions, settings, authenticate

    def encode_json(self, data: object) -> str:
        return encode_json(data)

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_page()

    async def get_context(self, request: Any, response: Any) -> Context:
        principal = request.scope.get("state", {}).get("principal")
        return Context(sessions=self.sessions, principal=principal, settings=self.settings,
                       loaders=Loaders(self.sessions), request=request, response=response)

    async def execute_single(self, **operation):
        run = super().execute_single  # bound here: a bare super() cannot be called from the lambda
        return await within_deadline(self.settings.query_timeout_seconds, operation["context"],
                                     lambda: run(**operation), operation["request_data"].query)

    async def on_ws_connect(self, context: Context):
        """Websockets carry the token in connection_init: {"Authorization": "Bearer …"}."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            context.principal = await anyio.to_thread.run_sync(self.authenticate, header)
        except Unauthenticated:
            raise ConnectionRejectionError({"reason": "authentication required"}) from None
        return UNSET


def _unauthorized(reason: str) -> Response:
    return JSONResponse({"errors": [{"message": "authentication required", "extensions": {"code": "UNAUTHENTICATED",
                                                                                       "reason": reason}}]},
                        status_code=401, headers={"WWW-Authenticate": f'Bearer realm="backflush", error="invalid_token", '
                                                                      f'error_description="{reason}"'})


class Guard:
    """Every GraphQL request needs a valid token, except fetching the GraphiQL page itself, and its
    subject must be within its rate.

    Websocket connections authenticate in `connection_init` instead (see the subscriptions module).
    """

    def __init__(self, graphql_app: BackflushGraphQL, authenticate: Authenticate, rate_limit: RateLimit):
        self.graphql_app, self.authenticate, self.rate_limit = graphql_app, authenticate, rate_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            request = Request(scope)
            wants_ide = request.method == "GET" and "text/html" in request.headers.get("accept", "")
            if not wants_ide:
                try:
                    # off the event loop: verifying reads signing keys and the user from the database
                    principal = await anyio.to_thread.run_sync(self.authenticate, request.headers.get("authorization"))
                except Unauthenticated as refused:
                    await _unauthorized(refused.reason)(scope, receive, send)
                    return
                if (wait := await self.rate_limit.retry_after(principal.subject)) is not None:
                    await RateLimit.refusal(wait)(scope, receive, send)
                    return
                scope.setdefault("state", {})["principal"] = principal
        await self.graphql_app(scope, receive, send)


def create_app(settings: Settings | None = None, *, authenticate: Authenticate | None = None,
               extra_routes: list | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    audit_checkpoints.install_from(settings, sessions)
    routes = list(extra_routes or [])
    if authenticate is None:
        authenticate, auth_routes = _embedded_identity(sessions, settings.auth)
        routes += auth_routes
    schema = build_schema(settings)
    graphql_app = BackflushGraphQL(schema, sessions=sessions, settings=settings, authenticate=authenticate)

    async def healthz(_: Request) -> Response:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # health reports, it does not raise
            log.warning("health check failed: %s", error)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "reachable"})

    rate_limit = RateLimit(settings.rate_limit, settings.rate_limit_storage)
    guarded = Guard(graphql_app, authenticate, rate_limit)
    routes += [Route("/healthz", healthz), Route("/graphql", guarded, methods=["GET", "POST"]),
               WebSocketRoute("/graphql", guarded), *evidence_routes(sessions, settings, authenticate, rate_limit)]
    if settings.graphiql:
        routes.append(graphiql_assets())
    routes += metrics_routes(settings.metrics_token, sessions)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        with instruments.serving(engine):
            yield
        engine.dispose()

    middleware = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    if settings.count_statements:
        from api.statement_counting import StatementCounting

        app.add_middleware(StatementCounting, engine=engine)
    app.add_middleware(RequestIds)  # outermost: every response, refusals included, carries its request id
    app.state.sessions, app.state.schema, app.state.engine = sessions, schema, engine
    open_to_browser_apps(app, settings.cors_origins)
    return app


YOUNG_OBJECTS = 10_000  # see create_served_app


def create_served_app(settings: Settings | None = None, *, authenticate: Authenticate | None = None) -> Starlette:
    """What `backflush serve` runs in each worker: the app, with everything built at startup (schema,
    statements, modules) moved out of the garbage collector's sight.

    A big answer (a 1,000-lot genealogy tree) allocates tens of thousands of objects, and each full
    collection would otherwise walk every object the process holds; frozen, they are never walked
    (issue 12: about half of the collector's time per genealogy request).

    The youngest generation is collected every YOUNG_OBJECTS allocations instead of Python's 700: such an
    answer holds ~30,000 containers alive while it is built, and at 700 the collector walked them some
    forty times a request to find nothing (3 ms of a 1,000-lot tree's ~25; 1–1.5 ms at 5,000 to 20,000). Garbage in
    reference cycles waits a little longer; what refcounting frees is freed at once, as before.
    """
    app = create_app(settings, authenticate=authenticate)
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, oldest)
    return app


def _embedded_identity(sessions, config):
    from auth.authenticate import Authenticator
    from auth.routes import auth_routes

    return Authenticator(config, sessions).authenticate, auth_routes(config, sessions)
