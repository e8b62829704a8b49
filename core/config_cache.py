"""Rows every request reads and administrators seldom change — role grants, choice lists,
custom field definitions — kept per process between requests.

Reading them costs a query each on every page; keeping them is safe only if no worker can
serve a stale copy after a change. So a model opts in with ``@config_model``, and any flush
that writes one of its rows, or any ORM ``insert``/``update``/``delete`` statement on its
table, bumps ``core_registry.config_version`` in the same transaction. Each request reads
that counter with the registry version (the same primary-key query) and a process that sees
it move starts an empty cache (``core.addons.runtime``): every worker, on every machine,
follows the change with its next request. Raw SQL (``text()``, ``connection.execute``) is not
seen: write these models through the session.

A session that changed such a row reads around the process cache until it ends, so it always
sees its own writes; its reads are still remembered for the session (an import's thousand
rows cost one query). Values must be immutable: tuples and frozen dataclasses, never ORM
objects, which belong to the session that loaded them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event, update
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")
M = TypeVar("M", bound=type)

#: Table names of the models registered with ``config_model``.
CONFIG_TABLES: set[str] = set()

_SESSION_CACHE = "kehu.config_cache"
_CHANGED = "kehu.config_changed"


def config_model(cls: M) -> M:
    """Class decorator: writes to this model bump the configuration counter."""
    CONFIG_TABLES.add(cls.__tablename__)  # type: ignore[attr-defined]
    return cls


def cached(ctx: Any, key: str, load: Callable[[], T]) -> T:
    """``load()``'s value, shared by the process's requests while the configuration counter
    stands still (``ctx.cache``; commands and jobs have none and keep it for their session)."""
    session_cache: dict[str, Any] = ctx.dbsession.info.setdefault(_SESSION_CACHE, {})
    if key in session_cache:
        return session_cache[key]  # type: ignore[no-any-return]
    process: dict[str, Any] | None = getattr(ctx, "cache", None)
    if ctx.dbsession.info.get(_CHANGED):
        process = None
    if process is not None and key in process:
        value = process[key]
    else:
        value = load()
        if process is not None:
            process[key] = value
    session_cache[key] = value
    return value  # type: ignore[no-any-return]


def config_changed(session: Session) -> None:
    """Bump the counter (once per transaction is enough) and stop trusting remembered values."""
    session.info.pop(_SESSION_CACHE, None)
    if session.info.get(_CHANGED):
        return
    session.info[_CHANGED] = True
    from core.models import RegistryVersion

    table = RegistryVersion.__table__
    session.connection().execute(update(table).where(table.c.id == 1)
                                 .values(config_version=table.c.config_version + 1))


def _touches_config(session: Session) -> bool:
    return any(getattr(obj, "__tablename__", None) in CONFIG_TABLES
               for obj in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if _touches_config(session):
        config_changed(session)


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in CONFIG_TABLES:
            config_changed(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget_change(session: Session, transaction: Any) -> None:
    """A new transaction may trust the process cache again (its writes are committed or gone)."""
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)
        session.info.pop(_SESSION_CACHE, None)
