"""GET /metrics for Prometheus, behind a scrape token.

Not served at all unless BACKFLUSH_METRICS_TOKEN is set; then only to `Authorization: Bearer <token>`
(Prometheus' `authorization` scrape setting). The figures are not secrets, but they are the plant's
volumes and the service's internals: they are not for every client that can reach the API.
"""
from __future__ import annotations

import hmac
import logging
import os

import anyio.to_thread
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from backflush.reads.rule_sets import versions_in_force

log = logging.getLogger(__name__)


class RuleSetsInForce:
    """Read at scrape time from the database, so every worker answers the same and none can be stale."""

    def __init__(self, sessions):
        self.sessions = sessions

    def collect(self):
        family = GaugeMetricFamily("backflush_rule_set_version_in_force",
                                   "Version of the QA rule set deciding each kind at each site now (0: none in force)",
                                   labels=["site", "kind"])
        try:
            with self.sessions() as session:
                rows = versions_in_force(session)
        except Exception as error:  # a scrape reports what it can; the database may be the thing that is down
            log.warning("rule-set versions not scraped: %s", error)
            rows = []
        for site, kind, version in rows:
            family.add_metric([site, kind], version or 0)
        yield family


def exposition(sessions) -> bytes:
    extra = CollectorRegistry()
    extra.register(RuleSetsInForce(sessions))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # every worker's files summed (see kernel.instruments)
        return generate_latest(workers) + generate_latest(extra)
    return generate_latest(REGISTRY) + generate_latest(extra)


def metrics_routes(token: str | None, sessions) -> list[Route]:
    if not token:
        return []
    expected = f"Bearer {token}".encode()

    async def metrics(request: Request) -> Response:
        offered = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(offered, expected):
            return PlainTextResponse("a scrape token is required\n", status_code=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        body = await anyio.to_thread.run_sync(exposition, sessions)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics, methods=["GET"])]
