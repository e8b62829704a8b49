"""How a service tells the core and every addon that it created, updated or deleted a record
(``kehu_record_changed``): the audit log and the record history listen, other addons react.
Values are made JSON-plain here (dates as ISO text, amounts as exact decimal text), once for all."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from core.contributions import RecordChange


def plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def record_changed(ctx: Any, action: str, record: Any, changes: Mapping[str, tuple[Any, Any]]) -> None:
    """Report ``action`` (created, updated, deleted …) on ``record`` (anything with a
    ``__tablename__`` and an ``id``) with ``{field: (before, after)}``, by the acting user, now."""
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        action, record.__tablename__, record.id,
        {field: (plain(before), plain(after)) for field, (before, after) in changes.items()},
        user_id=ctx.user.id if ctx.user is not None else None, at=ctx.now,
    ))
