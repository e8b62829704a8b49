"""Bulk loading on PostgreSQL: COPY into tables whose secondary indexes are dropped for the load
and created again from their own definitions afterwards.

One CREATE INDEX over a full table is many times faster than maintaining a GIN trigram index
row by row, and it builds the index the way a production database has it after a VACUUM: the
measured queries then meet realistic indexes, not ones bloated by the load.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

from sqlalchemy import Engine, text


def secondary_indexes(engine: Engine, tables: Sequence[str]) -> list[tuple[str, str]]:
    """``(name, CREATE INDEX …)`` of the tables' indexes that back no constraint (primary keys
    and unique constraints stay: the load must still be checked against them)."""
    with engine.connect() as connection:
        return [(name, definition) for name, definition in connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"),
            {"tables": list(tables)}).all()]


@contextlib.contextmanager
def indexes_dropped(engine: Engine, tables: Sequence[str], *, verbose: bool = True) -> Iterator[list[str]]:
    """Drop the tables' secondary indexes for the block, create them again after it (also when
    it fails, so a broken load leaves a usable schema), then VACUUM ANALYZE the tables."""
    indexes = secondary_indexes(engine, tables)
    with engine.begin() as connection:
        for name, _definition in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
    try:
        yield [name for name, _definition in indexes]
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SET maintenance_work_mem = '512MB'"))
            all_started = time.perf_counter()
            for name, definition in indexes:
                started = time.perf_counter()
                connection.execute(text(definition))
                if verbose and time.perf_counter() - started >= 1:
                    print(f"  index {name}: {time.perf_counter() - started:.1f} s", flush=True)
            if verbose:
                print(f"  {len(indexes)} indexes created in {time.perf_counter() - all_started:.1f} s", flush=True)
            for table in tables:
                connection.execute(text(f'VACUUM ANALYZE "{table}"'))
