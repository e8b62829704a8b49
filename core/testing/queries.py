"""Counting the SQL a page sends, for the tests that keep pages free of N+1 queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event


def count_queries(app: Any, url: str, *, status: int | None = 200) -> list[str]:
    """The statements ``GET url`` sends in a warm process. A first, unmeasured request fills
    the process's configuration cache (``core.config_cache``) as a worker's earlier requests
    would, so a test compares like with like whatever ran before it."""
    app.get(url, status=status)
    engine = app.router.registry["kehu.engine"]
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        app.get(url, status=status)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements
