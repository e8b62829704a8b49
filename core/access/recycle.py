"""The recycle bin (回收站, C3): deleting a ``Recyclable`` record only marks it, so a mistaken
delete — one record or a bulk action over hundreds — can be undone for ``RETENTION_DAYS``.

A marked record drops out of ``scope_condition``, hence out of every list, count, get, search,
export, API call and dashboard figure at once, without each addon remembering a filter. The
owning addon decides what a record drags along (a customer its contacts) and purges what has
been in the bin longer than the retention with a periodic job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.db import UTCDateTime

#: Days a deleted record can be restored before the purge removes it for good.
RETENTION_DAYS = 30


class Recyclable:
    """Mixin: ``deleted_at`` set = in the recycle bin. Derive from it together with ``Owned``."""

    @declared_attr
    def deleted_at(cls) -> Mapped[dt.datetime | None]:  # noqa: N805 (declared_attr receives the class)
        return mapped_column(UTCDateTime, default=None, index=True)

    @declared_attr
    def deleted_by(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), default=None)


def is_recyclable(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, Recyclable)


def live(model: Any) -> ColumnElement[bool]:
    """Not in the recycle bin: for queries that go around the record scope (查重, jobs)."""
    return model.deleted_at.is_(None)


def purge_before(now: dt.datetime) -> dt.datetime:
    """Records deleted before this moment are past the retention and may be purged."""
    return now - dt.timedelta(days=RETENTION_DAYS)


def purge_after(deleted_at: dt.datetime) -> dt.datetime:
    """When a record deleted at ``deleted_at`` becomes due for the purge."""
    return deleted_at + dt.timedelta(days=RETENTION_DAYS)


def mark_deleted(ctx: Any, *records: Any) -> None:
    """Put records in the bin with one timestamp, so a restore brings back exactly what one
    delete took (a customer and the contacts deleted with it, not those deleted before)."""
    user_id = ctx.user.id if ctx.user is not None else None
    for record in records:
        record.deleted_at, record.deleted_by = ctx.now, user_id
