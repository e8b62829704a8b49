"""The one Playwright browser of a test session (Debian's chromium), for every test directory.

Declared in the kehu pytest plugin, not in a conftest a test module imports from: an imported
session fixture is a second fixture, and a second ``sync_playwright()`` inside the first one's
event loop refuses to start. Without ``/usr/bin/chromium`` (or Playwright) browser tests are
skipped with the reason, unless ``KEHU_REQUIRE_BROWSER=1`` makes that a failure (CI sets it).
Beside it, what every flow needs: the app served over HTTP (``LiveServer``), a fresh page that
collects script errors (``open_page``) and the two widths (``viewport``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _require_browser() -> bool:
    return os.environ.get("KEHU_REQUIRE_BROWSER", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    if _require_browser():
        pytest.fail(f"KEHU_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (apt install chromium)")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: A loaded CI machine: generous, never a measure of speed.
TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: A request the page gave up when it navigated away (the bell's poll, a lazy panel): not a fault.
ABORTED_BY_NAVIGATION = "net::ERR_ABORTED"


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    """Both widths every UI flow is checked at: a test (or its ``page`` fixture) that asks for
    ``viewport`` runs once per width."""
    return request.param


@contextmanager
def open_page(browser: Any, base_url: str, viewport: dict[str, int] = DESKTOP, *,
              expected_status: Callable[[Any], bool] | None = None) -> Iterator[Any]:
    """A fresh zh-CN context (no cookies) and its page. Script errors and failed requests (not
    those a navigation cancelled) are collected in ``page.problems`` for the test to assert
    empty; with ``expected_status``, so is every HTTP error response it does not expect."""
    context = browser.new_context(base_url=base_url, locale="zh-CN", viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("requestfailed", lambda request: None if request.failure == ABORTED_BY_NAVIGATION
            else problems.append(f"failed: {request.url} {request.failure}"))
    if expected_status is not None:
        page.on("response", lambda response: None if response.status < 400 or expected_status(response)
                else problems.append(f"{response.status}: {response.url}"))
    page.problems = problems
    try:
        yield page
    finally:
        context.close()


class LiveServer:
    """A WSGI app served over HTTP on ``url`` (``http://127.0.0.1:<free port>``) from a background
    thread until ``stop()``: what the browser talks to."""

    def __init__(self, app: Any) -> None:
        self.httpd = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer,
                                 handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="kehu-live-server", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise here
        pass
