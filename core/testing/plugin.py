"""The ``kehu`` pytest plugin: databases on SQLite and PostgreSQL, apps, fixture addons.

Every test that asks for ``database_url`` (directly or through ``kehu_db``/``make_kehu_app``)
runs twice: ``[sqlite]`` and ``[postgresql]``. PostgreSQL comes from
``KEHU_TEST_DATABASE_URL`` or from a throwaway cluster this plugin starts; without one the
PostgreSQL runs are skipped with the reason, unless ``KEHU_REQUIRE_POSTGRES=1`` makes that an
error (CI sets it).
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
from core.db import make_engine
from core.testing.postgres import PostgresUnavailable, ThrowawayCluster

BACKENDS = ("sqlite", "postgresql")
TEST_SECRET = "test-secret-" + "x" * 40
ADMIN = ("admin", "Kehu-Test-Pass-42")


def _require_postgres() -> bool:
    return os.environ.get("KEHU_REQUIRE_POSTGRES", "") not in ("", "0")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str | None]:
    """The URL of a PostgreSQL server the suite may create databases on, or None."""
    given = os.environ.get("KEHU_TEST_DATABASE_URL")
    if given:
        yield given
        return
    try:
        cluster = ThrowawayCluster().start()
    except PostgresUnavailable as exc:
        if _require_postgres():
            pytest.fail(f"KEHU_REQUIRE_POSTGRES=1 but PostgreSQL is unavailable: {exc}", pytrace=False)
        os.environ["KEHU_TEST_POSTGRES_SKIP_REASON"] = str(exc)
        yield None
        return
    try:
        yield cluster.url
    finally:
        cluster.stop()


_counter = itertools.count()


def _admin_engine(server_url: str) -> Engine:
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kehu.sqlite'}"
        return
    server_url = request.getfixturevalue("postgres_server_url")
    if server_url is None:
        reason = os.environ.get("KEHU_TEST_POSTGRES_SKIP_REASON", "PostgreSQL unavailable")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    name = f"kehu_test_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def catalog_of() -> Callable[..., AddonCatalog]:
    """``catalog_of("tests.fixtures.addons.alpha", beta="pkg.of.beta")``: a catalog of the given
    packages, discovered through the same entry-point code as installed addons (the name is
    the package's last segment, or the keyword)."""

    def build(*packages: str, **named: str) -> AddonCatalog:
        pairs = [(p.rsplit(".", 1)[-1], p) for p in packages] + list(named.items())
        eps = [EntryPoint(name=name, value=package, group=ENTRY_POINT_GROUP) for name, package in pairs]
        return AddonCatalog.discover(eps)

    return build


@pytest.fixture
def installed_catalog() -> AddonCatalog:
    """The addons installed in this environment (bundled ones and any pip-installed partner's)."""
    return AddonCatalog.discover()


@pytest.fixture
def cli_env(database_url: str) -> Callable[..., Any]:
    """``cli_env(catalog)``: the CLI's environment on this test's database (for services)."""
    from core.cli.environment import CliEnvironment

    made: list[CliEnvironment] = []

    def build(catalog: AddonCatalog | None = None) -> CliEnvironment:
        env = CliEnvironment(database_url=database_url, catalog=catalog)
        made.append(env)
        return env

    yield build
    for env in made:
        if "engine" in env.__dict__:
            env.engine.dispose()


@pytest.fixture
def kehu_db(database_url: str, cli_env: Callable[..., Any]) -> str:
    """An initialised database (core tables, administrator ``admin`` / ``Kehu-Test-Pass-42``)."""
    from core.cli.database import initialise

    env = cli_env(AddonCatalog([]))
    initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=[])
    return database_url


class KehuTestApp:
    """A WebTest app plus the helpers every page test needs."""

    def __init__(self, app: Any, router: Any) -> None:
        self.app = app
        self.router = router

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def login(self, username: str = ADMIN[0], password: str = ADMIN[1]) -> Any:
        page = self.app.get("/login")
        form = page.forms[0]
        form["username"] = username
        form["password"] = password
        response = form.submit()
        assert response.status_int == 303, f"login of {username} failed: {response.status}"
        return response.follow()

    def csrf_token(self) -> str:
        """The session's CSRF token, read from a page's ``<meta name="csrf-token">``."""
        page = self.app.get("/login")
        if page.status_int == 303:
            page = page.follow()
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert match, "no csrf-token meta on the page"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs: Any) -> Any:
        """POST with the session's CSRF token, as a page's form would."""
        return self.app.post(url, {**(data or {}), "csrf_token": self.csrf_token()}, **kwargs)


@pytest.fixture
def make_kehu_app(kehu_db: str, cli_env: Callable[..., Any]) -> Iterator[Callable[..., KehuTestApp]]:
    """``make_kehu_app(catalog=None, install=("alpha",))``: the WSGI app on ``kehu_db`` with
    ``install`` installed through the real installer. Several calls give several app
    instances on one database (another worker, another machine)."""
    from webtest import TestApp

    from core.addons.installer import install_addons
    from core.web.app import make_app

    engines: list[Engine] = []

    def build(catalog: AddonCatalog | None = None, install: Iterable[str] = (), **settings: Any) -> KehuTestApp:
        catalog = catalog if catalog is not None else AddonCatalog.discover()
        if install:
            env = cli_env(catalog)
            with env.ctx() as ctx:
                install_addons(ctx, catalog, list(install))
        eng = make_engine(kehu_db)
        engines.append(eng)
        router = make_app({"kehu.database_url": kehu_db, "kehu.secret": TEST_SECRET, **settings},
                          catalog=catalog, engine=eng)
        return KehuTestApp(TestApp(router), router)

    yield build
    for eng in engines:
        eng.dispose()


@pytest.fixture
def scope_matrix(kehu_db: str, cli_env: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """``scope_matrix(Model, make=..., catalog=..., install=[...])``: a built
    ``core.testing.scopes.ScopeMatrix`` in an open transaction of the test database."""
    import contextlib

    from core.addons.installer import install_addons
    from core.testing.scopes import ScopeMatrix

    stack = contextlib.ExitStack()

    def build(model: type, *, make: Callable[..., Any], catalog: AddonCatalog | None = None,
              install: Iterable[str] = ()) -> ScopeMatrix:
        env = cli_env(catalog)
        if install:
            with env.ctx() as ctx:
                install_addons(ctx, env.catalog, list(install))
        ctx = stack.enter_context(env.ctx())
        return ScopeMatrix(ctx, model, make).build()

    with stack:
        yield build


from core.testing.browser import browser, chromium_executable, viewport  # noqa: E402, F401 (fixtures)
