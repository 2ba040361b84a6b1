"""A scratch PostgreSQL database and a real `backflush serve` process on it, for one bench run."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

BIN = Path(sys.executable).parent
ACCESS_TOKEN_LIFETIME = 4 * 3600  # one token lasts the whole run


@dataclass(frozen=True)
class ScratchDatabase:
    """`name` on the PostgreSQL server at `server_url`, created empty and dropped at the end."""

    server_url: str  # postgresql://user@host:port
    name: str

    @property
    def url(self) -> str:
        return f"{self.server_url.rstrip('/')}/{self.name}"

    def create(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, *statements: str) -> None:
        with psycopg.connect(f"{self.server_url.rstrip('/')}/postgres", autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url, **kwargs)


def backflush_commands(*commands: tuple[tuple[str, ...], str | None], database_url: str) -> list[str]:
    """Run the real `backflush` CLI against the bench database, the commands side by side (each is a
    second or more of imports); their stdouts, or an error with the failing one's output.

    Each command is (arguments, stdin)."""
    env = {**os.environ, "BACKFLUSH_DATABASE_URL": database_url}
    running = [(args, subprocess.Popen([str(BIN / "backflush"), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=env), stdin) for args, stdin in commands]
    outputs = []
    for args, process, stdin in running:
        out, err = process.communicate(stdin)
        if process.returncode != 0:
            raise RuntimeError(f"backflush {' '.join(args)} failed:\n{out}{err}")
        outputs.append(out)
    return outputs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """`backflush serve --workers N` with statement counting on; its log goes to a file, never a pipe."""

    database_url: str
    workers: int
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        """Start the server; `wait_until_healthy` before sending it anything."""
        env = {**os.environ, "BACKFLUSH_DATABASE_URL": self.database_url, "BACKFLUSH_AUTH_ISSUER": self.base_url,
               "BACKFLUSH_COUNT_STATEMENTS": "true", "BACKFLUSH_ACCESS_TOKEN_LIFETIME": str(ACCESS_TOKEN_LIFETIME),
               "BACKFLUSH_RATE_LIMIT": "off"}  # capacity is measured, not the per-client rate limit
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [str(BIN / "backflush"), "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_until_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"backflush serve exited ({self.process.returncode}); see {self.log_path}")
            if self._healthy() and len(self.worker_pids()) == self.workers:
                return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"backflush serve did not become healthy in {timeout:.0f} s; see {self.log_path}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: uvicorn's spawned workers, or the server itself with one worker."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        return [pid for pid in _children(self.process.pid) if "resource_tracker" not in _cmdline(pid)]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(found)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident — the kernel's high-water mark) of one process, in MB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024  # kB
    except OSError:
        return 0.0, 0.0
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)
