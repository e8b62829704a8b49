"""Fixtures for the browser tests: Debian's chromium through Playwright, and the real WSGI app
served over HTTP on 127.0.0.1 from a background thread, on an initialised SQLite database.

Without ``/usr/bin/chromium`` (or Playwright) the browser tests are skipped with the reason,
unless ``KEHU_REQUIRE_BROWSER=1`` makes that a failure (CI sets it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from core.testing.plugin import ADMIN, TEST_SECRET

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _require_browser() -> bool:
    return os.environ.get("KEHU_REQUIRE_BROWSER", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    if _require_browser():
        pytest.fail(f"KEHU_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (apt install chromium)")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise here
        pass


class LiveServer:
    """The WSGI app on ``url`` (``http://127.0.0.1:<free port>``) until ``stop()``."""

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


@pytest.fixture(scope="module")
def sqlite_kehu_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An initialised SQLite database (administrator ``admin`` / ``Kehu-Test-Pass-42``). The browser
    flow runs once, on SQLite: the backends are covered by the WebTest suites."""
    from core.addons.catalog import AddonCatalog
    from core.cli.database import initialise
    from core.cli.environment import CliEnvironment

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'kehu.sqlite'}"
    env = CliEnvironment(database_url=url, catalog=AddonCatalog([]))
    try:
        initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=[])
    finally:
        env.engine.dispose()
    return url


@pytest.fixture(scope="module")
def live_server(sqlite_kehu_db: str) -> Iterator[LiveServer]:
    from core.db import make_engine
    from core.web.app import make_app

    engine = make_engine(sqlite_kehu_db)
    app = make_app({"kehu.database_url": sqlite_kehu_db, "kehu.secret": TEST_SECRET}, engine=engine)
    server = LiveServer(app)
    yield server
    server.stop()
    engine.dispose()
