"""Headless Chromium for browser tests — Debian's package, driven by Playwright — and where they keep artifacts.

Without Chromium or Playwright the browser tests skip, saying why; with BACKFLUSH_BROWSER_TESTS=required
(set by .ci/run) that is a failure instead, so CI cannot pass by skipping them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("BACKFLUSH_TEST_ARTIFACTS") or ROOT / "artifacts") / "browser"
# What works in containers and CI: no sandbox (we run as root), no GPU, and nothing phoning home.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

_kept: list[Path] = []


def chromium_executable() -> str | None:
    candidate = os.environ.get("BACKFLUSH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if Path(candidate).exists() else None


def _unavailable(reason: str):
    if os.environ.get("BACKFLUSH_BROWSER_TESTS") == "required":
        pytest.fail(f"browser tests are required here (BACKFLUSH_BROWSER_TESTS=required), but {reason}", pytrace=False)
    pytest.skip(f"browser test skipped: {reason}")


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (each launch gets a fresh temporary --user-data-dir from Playwright).

    Module-scoped, not session-scoped: Playwright's sync API must not stay alive while other modules'
    asyncio tests run on the same thread.
    """
    executable = chromium_executable()
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


class LocalOnly:
    """Aborts, and remembers, every request a page makes to another machine: what a plant network would do."""

    def __init__(self):
        self.refused: list[str] = []

    def __call__(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()


@pytest.fixture
def offline_page(browser):
    """A page in a fresh browser context (own cookies and storage) that cannot reach beyond this machine.

    `page.refused` lists what it tried to fetch from elsewhere; `page.console` what it logged.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    local_only = LocalOnly()
    context.route("**/*", local_only)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.refused = local_only.refused
    page.console = []
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: page.console.append(f"pageerror: {error}"))
    yield page
    context.close()


@pytest.fixture
def keep_screenshot():
    """Saves a full-page screenshot under artifacts/browser/ (gitignored; BACKFLUSH_TEST_ARTIFACTS moves it)."""
    def keep(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        _kept.append(path)
        print(f"screenshot kept: {path}")
        return path
    return keep


def pytest_terminal_summary(terminalreporter):
    if _kept:
        terminalreporter.write_sep("-", "browser artifacts")
        for path in _kept:
            terminalreporter.write_line(f"screenshot kept: {path}")
