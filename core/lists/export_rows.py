"""What one user's export of a list holds, and how it is written — shared by the export in the
request and the background export (``core.lists.export``).

The rows are the list's (``filtered_select`` with its view, conditions and search) inside the
user's scope for ``export`` *and* ``read``; the columns are the chosen ones marked
``export=True``; every cell goes through ``cell_value`` (masked for readers without
``see_sensitive``) and becomes a number or formula-safe text (``core.exports``), dates in the
user's time zone as the page shows them, labels in the user's language. A cell is JSON-safe,
so a background export can keep a chunk of rows in the database as they will be written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
import re
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any

from pyramid.i18n import TranslationString
from sqlalchemy import Select, func

from core.access.masking import mask, may_see_sensitive, sensitive_columns
from core.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_bytes, export_cell, xlsx_bytes
from core.i18n import _
from core.lists.declaration import Column, ListPage
from core.lists.query import ListState, cell_value, filtered_select, page_condition, visible_columns

FORMATS = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}
#: Settings (ini ``kehu.*``) and their defaults.
SETTINGS = {
    "kehu.export_sync_rows": 2_000,  # up to this many rows: written in the request
    "kehu.export_chunk_rows": 5_000,  # rows per chunk job
    "kehu.export_keep_days": 7,  # days an export file can be downloaded
    "kehu.export_max_rows": 200_000,  # more: refused, narrow the list first
}
DEFAULT_TIMEZONE = "Asia/Shanghai"


def setting(settings: Any, key: str) -> int:
    """An export setting as a positive whole number (its default when unset)."""
    return max(1, int(settings.get(key) or SETTINGS[key]))


@dataclasses.dataclass
class Sheet:
    """The columns of one export and how their cells read for its user: masked or not, dates in
    the user's time zone, labels (``TranslationString``) in the user's language."""

    ctx: Any
    page: ListPage
    columns: list[Column]
    translate: Callable[[Any], str]
    tz: dt.tzinfo
    reveal: bool

    @classmethod
    def for_user(cls, ctx: Any, page: ListPage, columns: list[Column], translate: Callable[[Any], str]) -> Sheet:
        return cls(ctx, page, columns, translate, user_timezone(ctx.user), may_see_sensitive(ctx, page.model))

    def row(self, record: Any) -> list[Any]:
        return [self.cell(cell_value(self.ctx, self.page, column, record, reveal=self.reveal))
                for column in self.columns]

    def cell(self, value: Any) -> Any:
        """A JSON-safe cell: a number, or formula-safe text."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return self.translate(_("Yes") if value else _("No"))
        if isinstance(value, decimal.Decimal):
            return _decimal(value)
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return aware.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, TranslationString):
            value = self.translate(value)
        return export_cell(value)


def _decimal(value: decimal.Decimal) -> Any:
    """A number when a float holds it exactly (amounts do), else its exact digits as text."""
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    number = float(value)
    return number if decimal.Decimal(repr(number)) == value else export_cell(str(value))


def user_timezone(user: Any) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(getattr(user, "timezone", None) or DEFAULT_TIMEZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


def export_columns(page: ListPage, state: ListState) -> list[Column]:
    return [column for column in visible_columns(page, state) if column.export]


def export_select(ctx: Any, page: ListPage, state: ListState) -> Select[Any]:
    """The list's rows that the user may both export and read (PermissionDenied without both)."""
    query = filtered_select(ctx, page, state, action="export").where(page_condition(ctx, page, "read"))
    return page.eager(query) if page.eager is not None else query


def count_rows(ctx: Any, page: ListPage, state: ListState) -> int:
    query = (filtered_select(ctx, page, state, action="export").where(page_condition(ctx, page, "read"))
             .with_only_columns(func.count()).order_by(None))
    return ctx.dbsession.scalar(query) or 0


def ordered_rows(ctx: Any, page: ListPage, state: ListState) -> Iterable[Any]:
    """Every row in the list's own order (its sort, then id), as the user saw it."""
    field = state.sort.lstrip("-") or "id"
    model = page.model
    columns = [getattr(model, field)] if field != "id" else []
    columns.append(model.id)
    order = [c.desc() if state.sort.startswith("-") else c.asc() for c in columns]
    return ctx.dbsession.scalars(export_select(ctx, page, state).order_by(*order)).unique()


def write_file(fmt: str, header: list[str], rows: Iterable[list[Any]], title: str) -> bytes:
    if fmt == "xlsx":
        return xlsx_bytes(header, rows, sheet_title=title)
    return csv_bytes(header, rows)


def file_name(title: str, fmt: str, now: dt.datetime, tz: dt.tzinfo) -> str:
    """``便签-2026-11-25.csv``: the list's title and the day, in the user's time zone."""
    clean = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip() or "export"
    return f"{clean[:100]}-{now.astimezone(tz).date().isoformat()}.{fmt}"


def audit_detail(page: ListPage, state: ListState, rows: int, fmt: str) -> str:
    """"<n> rows, <format>, <the list's view, search and conditions>", values of sensitive
    columns masked: the audit log must not become a way round masking."""
    sensitive = sensitive_columns(page.model)
    conditions = [[c.field, c.op, *(mask(sensitive[c.field], v) for v in (c.value, c.value2) if v)]
                  if c.field in sensitive else [c.field, c.op, *(v for v in (c.value, c.value2) if v)]
                  for c in state.conditions]
    q = state.q
    searched = [sensitive[f] for f in page.search if f in sensitive]
    if q and searched and re.fullmatch(r"[0-9 +()\-]{5,}", q):
        q = mask(searched[0], q)
    summary = {"view": state.view, "q": q, "conditions": conditions, "sort": state.sort}
    return f"{rows} rows, {fmt}, " + json.dumps(summary, ensure_ascii=False)
