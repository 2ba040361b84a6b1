"""The evidence pack as a printable page, a JSON download and SVG pictures, under the API's own
authorization: a bearer token holding audit:read, and an order of the caller's sites (anything else is 404)."""
from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.ids import pk_of
from auth.principal import Unauthenticated
from backflush.insight import evidence_views
from backflush.insight.control_limits import window_of

SCOPE = "audit:read"
SVG = "image/svg+xml"


def evidence_urls(work_order_gid: str) -> dict[str, str]:
    base = f"/evidence/{work_order_gid}"
    return {"html": f"{base}.html", "json": f"{base}.json", "genealogy_svg": f"{base}/genealogy.svg"}


def evidence_routes(sessions, settings, authenticate, rate_limit) -> list[Route]:
    window = window_of(settings)

    def served(read, media_type: str, headers=lambda found: {}):
        async def endpoint(request: Request) -> Response:
            try:
                principal = await anyio.to_thread.run_sync(authenticate, request.headers.get("authorization"))
            except Unauthenticated as refused:
                return JSONResponse({"error": "authentication required", "reason": refused.reason}, status_code=401,
                                    headers={"WWW-Authenticate": 'Bearer realm="backflush"'})
            if (wait := await rate_limit.retry_after(principal.subject)) is not None:
                return rate_limit.refusal(wait)
            if not principal.has_scope(SCOPE):
                return JSONResponse({"error": f"forbidden: needs scope {SCOPE}"}, status_code=403)
            pk = pk_of(request.path_params["work_order"], "WorkOrder")

            def run():
                with sessions() as session:
                    return read(session, principal, pk, request)
            found = await anyio.to_thread.run_sync(run)
            if found is None:
                return JSONResponse({"error": "not found"}, status_code=404)
            body = found.body if isinstance(found, evidence_views.Download) else found
            return Response(body, media_type=media_type, headers={"Cache-Control": "no-store", **headers(found)})
        return endpoint

    page = served(lambda s, p, pk, r: evidence_views.evidence_html(
        s, p, pk, json_url=evidence_urls(r.path_params["work_order"])["json"], window=window), "text/html; charset=utf-8")
    download = served(lambda s, p, pk, r: evidence_views.evidence_json(s, p, pk), "application/json",
                      lambda found: {"X-Evidence-SHA256": found.sha256,
                                     "Content-Disposition": "attachment; filename=evidence-pack.json"})
    genealogy = served(lambda s, p, pk, r: evidence_views.genealogy_picture(s, p, pk), SVG)
    chart = served(lambda s, p, pk, r: evidence_views.control_chart_picture(
        s, p, pk, r.path_params["item_code"], window=window), SVG)
    return [Route("/evidence/{work_order}.html", page), Route("/evidence/{work_order}.json", download),
            Route("/evidence/{work_order}/genealogy.svg", genealogy),
            Route("/evidence/{work_order}/control-charts/{item_code}.svg", chart)]
