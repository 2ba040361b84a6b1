"""The harness the served-path tools share: one instrumented server worker on a scratch plant, one client.

profile_served.py and phases_served.py each run `backflush serve` inside a script of their own (their
instruments live in that process); the database, the identities, the plant and the client's order are
the same for both.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bench import server as bench_server
from bench.http_api import GraphQL, create_identities, line_token, sign_in
from bench.load import Post
from bench.plant import build_site, build_size
from bench.triggers import _served_post


@contextmanager
def one_client_order(script: str, serve_args: list[str], *, server_url: str, name: str, lines: int, triggers: int,
                     env: Mapping[str, str] = {}) -> Iterator[Post]:
    """A scratch database `name`, `script --serve <serve_args> --port P --workers 1` as its server, the bench
    plant at `lines` BOM lines with one order that may post `triggers`, and that order's post function;
    the server stopped and the database dropped on the way out."""
    database = bench_server.ScratchDatabase(server_url, name)
    log = Path(tempfile.gettempdir()) / f"{database.name}.serve.log"
    server = bench_server.Server(database.url, 1, log)
    database.create()
    try:
        bench_server.backflush_commands((("migrate",), None), database_url=database.url)
        served_env = {**os.environ, "BACKFLUSH_DATABASE_URL": database.url, "BACKFLUSH_AUTH_ISSUER": server.base_url,
                      "BACKFLUSH_COUNT_STATEMENTS": "true", "BACKFLUSH_ACCESS_TOKEN_LIFETIME": "3600",
                      "BACKFLUSH_RATE_LIMIT": "off", **env}
        with open(log, "w") as out:
            server.process = subprocess.Popen(
                [str(bench_server.BIN / "python"), script, "--serve", *serve_args, "--port", str(server.port),
                 "--workers", "1"], env=served_env, stdout=out, stderr=subprocess.STDOUT)
        identities = create_identities(database.url)
        server.wait_until_healthy()
        api = GraphQL(server.base_url, sign_in(server.base_url))
        plant = build_size(api, build_site(api), lines=lines, clients=[1], caps={"SRV": triggers + 5, "FLR": 5})
        line = GraphQL(server.base_url, line_token(server.base_url, identities))
        try:
            yield _served_post(line, plant.for_run("SRV", 1)[0])
        finally:
            api.close()
            line.close()
    finally:
        server.stop()
        database.drop()
