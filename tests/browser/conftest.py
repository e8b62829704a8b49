"""Fixtures for the browser tests: Debian's chromium through Playwright, and the real WSGI app
served over HTTP on 127.0.0.1 from a background thread, on an initialised SQLite database.

The session's chromium itself (``browser``), ``LiveServer`` and ``open_page`` come from the kehu
pytest plugin (``core.testing.browser``), so test modules elsewhere share them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.testing.browser import LiveServer
from core.testing.plugin import ADMIN, TEST_SECRET


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
