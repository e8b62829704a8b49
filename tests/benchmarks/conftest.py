"""One PostgreSQL database for the benchmark tests, on the suite's server (PostgreSQL only:
the harness measures PostgreSQL; without a server they are skipped, or fail under
KEHU_REQUIRE_POSTGRES=1 as the plugin decides)."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.cluster import create_database


@pytest.fixture(scope="module")
def bench_url(postgres_server_url: str | None) -> Iterator[str]:
    if postgres_server_url is None:
        pytest.skip("the benchmark harness needs PostgreSQL")
    name = f"kehu_bench_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server_url, name)
    try:
        yield url
    finally:
        admin = create_engine(make_url(postgres_server_url).set(drivername="postgresql+psycopg"),
                              isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
