"""`backflush serve` (or `dev.py serve`) as a real process, its logs in files a test can read."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    process: subprocess.Popen
    base: str
    port: int
    stdout: Path
    stderr: Path

    def logs(self) -> str:
        return self.stderr.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def start(command: list[str], *, tmp_path: Path, env: dict[str, str], port: int, timeout: float = 90) -> Served:
    """Start `command` (it must bind 127.0.0.1:`port`) and wait until /healthz answers 200."""
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=ROOT)
    served = Served(process, f"http://127.0.0.1:{port}", port, stdout, stderr)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}: {served.logs()[-3000:]}")
        try:
            if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    served.process.kill()
    raise AssertionError("server did not become healthy: " + served.logs()[-3000:])


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """The test process's environment, less what would make the server's configuration the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKFLUSH_", "PROMETHEUS_"))}
    return {**env, "BACKFLUSH_DATABASE_URL": database_url, **extra}
