"""GraphiQL served whole by the service, so that it works where no CDN can be reached (a plant network).

The page and its assets are vendored from the npm registry by scripts/refresh_graphiql.py, which
checks each file against the integrity hash strawberry's own page pins.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=1)
def graphiql_page() -> str:
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


def graphiql_assets() -> Mount:
    return Mount("/graphiql", app=StaticFiles(directory=STATIC / "graphiql"), name="graphiql")
