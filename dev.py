#!/usr/bin/env python3
"""Set-up and run with nothing but Python 3.11+.

  python3 dev.py serve [--port 9000 …]    the API with a demo plant (apply migrations, seed, serve)
  python3 dev.py test [pytest arguments]  the test suite
  python3 dev.py backflush COMMAND …      any `backflush` command (create-client, migrate, …) from .venv
  python3 dev.py lock                     re-resolve requirements*.lock from pyproject.toml (needs PyPI)

Creates .venv beside this file on first use and installs the pinned, hash-checked versions of
requirements-test.lock into it, then the project itself; again only when pyproject.toml or a lock
file changes. The command then takes dev.py's place, so a signal sent to dev.py (Ctrl-C, an IDE's
stop button, a process manager's SIGTERM) reaches it directly and dev.py exits with its status.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".backflush-installed"
LOCK, TEST_LOCK = ROOT / "requirements.lock", ROOT / "requirements-test.lock"
UV = "uv==0.13.9"  # resolves the locks; only `dev.py lock` installs it
COMPILE = ["pip", "compile", "--universal", "--python-version", "3.11", "--generate-hashes", "--quiet"]


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may be started by an older python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(b"".join(p.read_bytes() for p in (ROOT / "pyproject.toml", LOCK, TEST_LOCK))).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing the locked dependencies and backflush into .venv …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + ["--require-hashes", "-r", str(TEST_LOCK)], check=True, cwd=ROOT)
    subprocess.run(pip + ["--no-deps", "-e", str(ROOT)], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def lock() -> int:
    """The image installs requirements.lock; dev.py and CI install requirements-test.lock (the same pins plus
    the test tools); CI's own tools come from .ci/tools.lock. Each is universal: one file for every
    platform and Python from 3.11 on."""
    python = str(BIN / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", UV], check=True)
    uv = [python, "-m", "uv", *COMPILE]
    for arguments in (["pyproject.toml", "-o", LOCK.name],
                      ["pyproject.toml", "--extra", "test", "-c", LOCK.name, "-o", TEST_LOCK.name],
                      [".ci/tools.in", "-o", ".ci/tools.lock"]):
        subprocess.run(uv + arguments, check=True, cwd=ROOT)
    return 0


def run(command: list[str]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.chdir(ROOT)
        os.execv(command[0], command)  # does not return: the command is now this process
    child = subprocess.Popen(command, cwd=ROOT)  # Windows has no exec: pass signals on, then the status
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda received, _frame: child.send_signal(received))
    return child.wait()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "backflush", "lock"}:
        print(__doc__)
        return 2
    ensure_environment()
    if argv[0] == "lock":
        return lock()
    if argv[0] == "serve":
        os.environ.setdefault("BACKFLUSH_LOG_FORMAT", "console")  # a person reads these; servers keep JSON
        return run([str(BIN / "backflush"), "serve", "--demo", *argv[1:]])
    if argv[0] == "backflush":
        return run([str(BIN / "backflush"), *argv[1:]])
    return run([str(BIN / "python"), "-m", "pytest", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
