"""Custom fields on list pages: every active custom field of a ``HasCustomFields`` model is a
filter (an indexed lookup on its value) and a column (off until the user picks it), added per
request because admins define fields at run time. ``with_custom_fields(ctx, page)`` gives the
page as this request sees it; the list, bulk, saved-view, export and worker paths all use it,
so what a user filters is what they change and export."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.customfields.exceptions import CustomValueInvalid
from core.customfields.models import HasCustomFields
from core.customfields.services import FieldDef, fields_for, filter_condition, parse_value, values_for
from core.lists.declaration import NO_VALUE, Column, Filter, ListPage

#: Custom field kinds as list filter kinds.
FILTER_KINDS = {"text": "text", "number": "number", "date": "date", "select": "choice"}


def with_custom_fields(ctx: Any, page: ListPage) -> ListPage:
    """``page`` with a filter and an optional column per active custom field of its model (and
    as its own ``adapt`` makes it for this request)."""
    if page.adapt is not None:
        page = page.adapt(ctx, dataclasses.replace(page, adapt=None))
    if not issubclass(page.model, HasCustomFields):
        return page
    fields = fields_for(ctx, page.model)
    if not fields:
        return page
    cells = _Cells(ctx, page.model)
    filters = tuple(Filter(f.name, f.label, kind=FILTER_KINDS[f.kind],
                           choices=[(c, c) for c in f.choices or []] if f.kind == "select" else None,
                           where=_where(page.model, f)) for f in fields)
    columns = tuple(Column(f.name, f.label, default=False, render=cells.render(f.name)) for f in fields)
    return dataclasses.replace(page, filters=page.filters + filters, columns=page.columns + columns)


def _where(model: Any, field: FieldDef) -> Any:
    def where(op: str, value: str, value2: str = "") -> Any:
        def parsed(raw: str) -> Any:
            try:
                return parse_value(field, raw) if raw else None
            except CustomValueInvalid as refused:
                raise ValueError(refused.translation_string) from None

        if op in NO_VALUE:
            return filter_condition(model, field, op, None)
        return filter_condition(model, field, op, parsed(value), parsed(value2))

    return where


class _Cells:
    """One query for a page's custom values: at the first cell, the values of every record of
    the model this request has loaded — the page's rows."""

    def __init__(self, ctx: Any, model: type) -> None:
        self.ctx, self.model = ctx, model
        self.values: dict[int, dict[str, Any]] | None = None

    def render(self, name: str) -> Any:
        def cell(ctx: Any, record: Any) -> Any:
            if self.values is None or record.id not in self.values:
                loaded = [obj.id for obj in self.ctx.dbsession.identity_map.values() if isinstance(obj, self.model)]
                self.values = values_for(self.ctx, self.model, loaded)
            return self.values.get(record.id, {}).get(name)

        return cell
