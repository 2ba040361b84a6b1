"""Limits at the HTTP door: how large a request body may be, and how often one caller may ask.

Both answer before any GraphQL work is done: 413 for a body over the limit (declared or streamed),
429 with `Retry-After` for a caller over its rate. The rate is counted per token subject, so one
integration cannot crowd out the others; with several workers, point the storage at Redis to share
the count (`limits` storage URIs, e.g. redis://host:6379).
"""
from __future__ import annotations

import math
import time

import limits
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.responses import JSONResponse

from api.limit_codes import LimitCode


def refusal(status: int, message: str, code: LimitCode, headers: dict | None = None, **details) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code.value, **details}}]},
                        status_code=status, headers=headers)


class BodySizeLimit:
    """ASGI middleware: a body over `max_bytes` is refused with 413 before the app has read it all."""

    def __init__(self, app, *, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"").decode()
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(scope, receive, send)
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        await refusal(413, f"the request body is over {self.max_bytes} bytes", LimitCode.REQUEST_TOO_LARGE,
                      limit=self.max_bytes)(scope, receive, send)


class _TooLarge(Exception):
    pass


class RateLimit:
    """Requests per token subject, in a moving window: "1200/minute", or several, "20/second;1000/hour";
    "off" where something in front (an API gateway) limits already, or to measure capacity."""

    def __init__(self, rates: str, storage_uri: str = "memory://"):
        self.rates = [] if rates.strip().lower() == "off" else limits.parse_many(rates)
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self.limiter = MovingWindowRateLimiter(limits.storage.storage_from_string(uri))

    async def retry_after(self, subject: str) -> int | None:
        """None when the request may go on (and is counted); else the seconds to wait."""
        for rate in self.rates:
            if not await self.limiter.hit(rate, subject):
                stats = await self.limiter.get_window_stats(rate, subject)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None

    @staticmethod
    def refusal(seconds: int) -> JSONResponse:
        return refusal(429, f"too many requests; retry in {seconds} s", LimitCode.RATE_LIMITED,
                       headers={"Retry-After": str(seconds)}, retryAfter=seconds)
