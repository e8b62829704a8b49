"""Engines from a database URL: SQLite tuned for a single machine, PostgreSQL pooled.

SQLite runs in WAL mode with foreign keys and a busy timeout, and its transactions are begun
explicitly so that DDL is transactional too: an addon install that fails half-way is rolled
back on SQLite exactly as on PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str | URL) -> URL:
    """Pick psycopg 3 for PostgreSQL URLs given without a driver."""
    url = make_url(url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(url: str | URL, *, pool_size: int = 5, max_overflow: int = 10, echo: bool = False) -> Engine:
    """Build the engine for ``url``; SQLite files get their folder created."""
    url = normalise_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        echo=echo,
    )


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Hand transaction control to SQLAlchemy (see _on_begin) so DDL is transactional.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


@contextlib.contextmanager
def schema_change_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to run migrations on. On SQLite, with foreign keys off for it.

    Alembic's batch mode changes a SQLite table by copying it and dropping the old one; with
    foreign keys on, that drop deletes (ON DELETE CASCADE) or empties (SET NULL) every row that
    points at it — every contact of every customer. SQLite lets the setting change only outside
    a transaction, so it is switched here, before the caller's transaction begins, and the caller
    runs ``check_foreign_keys`` before committing (SQLite's documented way to alter a table)."""
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            yield connection
            return
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")  # no transaction yet: see _on_begin
        try:
            yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            driver.execute("PRAGMA foreign_keys=ON")


def check_foreign_keys(connection: Connection) -> None:
    """Refuse to commit schema changes that left a row pointing at nothing (SQLite, after
    ``schema_change_connection``; PostgreSQL checks every statement itself)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"the migration left {len(broken)} rows pointing at nothing in {', '.join(tables)}")
