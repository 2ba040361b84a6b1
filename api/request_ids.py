"""Every request gets an id — the caller's X-Request-ID when it is a sane token, else a new one —
set into `kernel.request_context.request_id` for the services (audit rows, log lines), echoed in
the response, and logged once with the outcome when the response is done.

Every response also says how long the server took to answer: `Server-Timing: app;dur=<ms>`, from the
request's arrival to its response's start (the whole answer is made by then; what follows is sending
it). Browsers show it beside the request, and the benchmark reads server time from it (bench/README.md).

A plain ASGI middleware rather than BaseHTTPMiddleware: it also covers websockets, and the id is set
in the very task that runs the app, so it reaches worker threads (anyio.to_thread copies the context).
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders

from kernel.request_context import request_id

log = logging.getLogger("backflush.access")
HEADER = "X-Request-ID"
TIMING_HEADER = "Server-Timing"
# What we echo and log must not carry quotes, spaces or control characters a log reader could trip on.
ACCEPTED = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
QUIET_PATHS = frozenset({"/healthz", "/metrics"})  # scraped every few seconds: logged at DEBUG


class RequestIds:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get(HEADER, "")
        current = offered if ACCEPTED.fullmatch(offered) else uuid.uuid4().hex
        token = request_id.set(current)
        started, status = time.perf_counter(), [None]

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                headers[HEADER] = current
                headers[TIMING_HEADER] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._log(scope, status[0], time.perf_counter() - started)
            request_id.reset(token)

    @staticmethod
    def _log(scope, status: int | None, seconds: float) -> None:
        level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
        log.log(level, "request" if scope["type"] == "http" else "websocket",
                extra={"method": scope.get("method", "WS"), "path": scope["path"],
                       "status": status if status is not None else (500 if scope["type"] == "http" else None),
                       "duration_ms": round(seconds * 1000, 1)})
