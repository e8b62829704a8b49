"""A PostgreSQL database with Kehu initialised on it, for the benchmarks: a throwaway cluster
(initdb on 127.0.0.1 and a free port, deleted afterwards) or a server the caller names.

Every benchmark script starts the same way: start a cluster, create a database, initialise
Kehu with the addons it measures; this module is that start, so the scripts differ only in
what they measure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib.metadata import EntryPoint

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
from core.cli.database import initialise
from core.cli.environment import CliEnvironment
from core.testing.plugin import ADMIN
from core.testing.postgres import SUITE_SETTINGS, ThrowawayCluster

#: The test suite's settings trade durability for speed; a benchmark of writes must not, so the
#: harness runs PostgreSQL as a production server would (fsync, synchronous commit), with
#: memory fitting a small dedicated machine. Recorded in each result file.
PRODUCTION_SETTINGS: dict[str, str] = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "512MB",
    "effective_cache_size": "2GB",
    "work_mem": "8MB",
    "max_connections": "300",
    "jit": "off",  # docs/install.md: compiling costs more than Kehu's short queries run
}


def catalog_of(**packages: str) -> AddonCatalog:
    """``catalog_of(customers="addons.customers")``: found through the same entry-point code as
    installed addons, without depending on what this virtualenv has installed."""
    return AddonCatalog.discover([EntryPoint(name=name, value=package, group=ENTRY_POINT_GROUP)
                                  for name, package in packages.items()])


def create_database(server_url: str, name: str) -> str:
    """A new database on the server; its URL (psycopg 3 driver)."""
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def initialise_kehu(url: str, catalog: AddonCatalog, addons: list[str]) -> None:
    """Core tables, the administrator of the test suite (``core.testing.plugin.ADMIN``) and the
    addons, through ``kehu init``'s own code."""
    env = CliEnvironment(database_url=url, catalog=catalog)
    initialise(env, admin_username=ADMIN[0], admin_password=ADMIN[1], admin_email=None, addons=addons)
    env.engine.dispose()


@contextlib.contextmanager
def throwaway_server(*, durable: bool = False) -> Iterator[ThrowawayCluster]:
    """A cluster for the block, stopped and deleted afterwards (Ctrl-C included). ``durable``:
    production settings (the load harness); else the test suite's fast ones (in-process reads)."""
    cluster = ThrowawayCluster(PRODUCTION_SETTINGS if durable else SUITE_SETTINGS).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@contextlib.contextmanager
def kehu_database(catalog: AddonCatalog, addons: list[str], *, name: str = "bench",
                  durable: bool = False) -> Iterator[str]:
    """A throwaway cluster with one database initialised with ``addons``; yields its URL."""
    with throwaway_server(durable=durable) as cluster:
        url = create_database(cluster.url, name)
        initialise_kehu(url, catalog, addons)
        yield url


def server_version(url: str) -> str:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        version = connection.scalar(text("SHOW server_version"))
    engine.dispose()
    return str(version)


def server_settings(url: str, names: list[str]) -> dict[str, str]:
    """The server's values of ``names`` (what a result file records of the database)."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        values = {name: str(connection.scalar(text(f"SHOW {name}"))) for name in names}
    engine.dispose()
    return values
