"""Real servers for browser tests: `backflush serve` as a process, and a static site on a second origin."""
from __future__ import annotations

import contextlib
import functools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backflush(database_url: str, *args: str) -> str:
    """Runs the `backflush` command against the test database, as an administrator would."""
    done = subprocess.run([str(BIN / "backflush"), *args], env={**os.environ, "BACKFLUSH_DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextlib.contextmanager
def backflush_server(database_url: str, log_dir: Path, **environment: str) -> Iterator[str]:
    """`backflush serve --demo` on a free port of 127.0.0.1, its log in a file (a full pipe would stall it)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BACKFLUSH_DATABASE_URL": database_url, "BACKFLUSH_AUTH_ISSUER": base, **environment}
    log_path = log_dir / f"backflush-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([str(BIN / "backflush"), "serve", "--demo", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(base, process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_healthy(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail("backflush serve did not become healthy:\n" + log_path.read_text()[-3000:])


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output for what matters
        pass


@contextlib.contextmanager
def static_site(directory: Path) -> Iterator[str]:
    """Serves `directory` on another port of 127.0.0.1: another origin, as a front-end team's app would be."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
