"""Fixtures for the browser tests: Debian's chromium through Playwright, and the real WSGI app
served over HTTP on 127.0.0.1 from a background thread, on an initialised SQLite database.

The session's chromium itself (``browser``) comes from the kehu pytest plugin
(``core.testing.browser``), so test modules elsewhere share it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from core.testing.plugin import ADMIN, TEST_SECRET


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
