"""dev.py as an IDE or a process manager drives it: signals reach the server, its exit status comes back."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.ops import served

DEV = served.ROOT / "dev.py"


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return status != "Z"


def start_server(command: list[str], tmp_path: Path) -> served.Served:
    port = served.free_port()
    tmp_path.mkdir()
    return served.start([*command, "--port", str(port)], tmp_path=tmp_path, port=port,
                        env=served.environment(f"sqlite:///{tmp_path}/demo.db"))


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_dev_py_serve_stops_the_server_and_dev_py_exits_with_its_status(tmp_path, signal_number):
    via_dev = start_server([sys.executable, str(DEV), "serve"], tmp_path / "dev")
    direct = start_server([str(served.BIN / "backflush"), "serve", "--demo"], tmp_path / "direct")
    server_processes = {via_dev.process.pid} | descendants(via_dev.process.pid)

    for server in (via_dev, direct):
        server.process.send_signal(signal_number)
    statuses = [server.process.wait(timeout=30) for server in (via_dev, direct)]

    assert statuses[0] == statuses[1], via_dev.logs()[-2000:]  # whatever the server says, dev.py says
    assert "Finished server process" in via_dev.logs()  # it shut down cleanly, not killed
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in server_processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in server_processes if alive(pid)] == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{via_dev.base}/healthz", timeout=2)


def test_dev_py_passes_a_command_to_backflush_and_exits_with_its_status(database_url):
    env = served.environment(database_url)
    refused = subprocess.run([sys.executable, str(DEV), "backflush", "create-user", "--username", "x",
                              "--display-name", "X", "--password-stdin"], input="short\n", env=env,
                             capture_output=True, text=True, timeout=120)
    helped = subprocess.run([sys.executable, str(DEV), "backflush", "--help"], env=env, capture_output=True, text=True,
                            timeout=120)

    assert refused.returncode == 2 and "PASSWORD_TOO_SHORT" in refused.stderr
    assert helped.returncode == 0 and "create-client" in helped.stdout


def test_dev_py_without_a_known_command_explains_itself_and_exits_2():
    result = subprocess.run([sys.executable, str(DEV), "frobnicate"], capture_output=True, text=True, timeout=60,
                            env={**os.environ})
    assert result.returncode == 2 and "python3 dev.py serve" in result.stdout
