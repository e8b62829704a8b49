"""From a list page's query string to SQL: the state (view, conditions, search, sort, columns,
cursor), the filtered select inside the user's scope, and one keyset page of it.

The same ``filtered_select`` feeds the page, its total, the bulk actions ("every matching row")
and the export, so what a user exports or changes is exactly what the list showed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Date, DateTime, Select, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from core.access.masking import mask, may_see_sensitive, sensitive_columns
from core.access.scopes import scope_condition
from core.api.exceptions import BadCursor
from core.api.lists import decode_cursor, encode_cursor
from core.api.resources import column_type
from core.i18n import _
from core.lists.declaration import KIND_OPERATORS, NO_VALUE, TWO_VALUES, Column, ListPage
from core.lists.models import ListSetting, SavedView

PAGE_SIZES = (20, 50, 100)
#: A list counts its matches up to this many (``count``).
COUNT_LIMIT = 10_000
MAX_VALUE_LENGTH = 200
INTEGER = re.compile(r"^-?[0-9]{1,18}$")


@dataclasses.dataclass(frozen=True)
class Condition:
    """``field op value [value2]``; values are text as typed, parsed when the SQL is built."""

    field: str
    op: str
    value: str = ""
    value2: str = ""

    def as_list(self) -> list[str]:
        return [self.field, self.op, self.value, self.value2]


@dataclasses.dataclass
class ListState:
    """What the user is looking at. ``params()`` is its JSON form (saved views, exports)."""

    view: str = "system:all"
    conditions: list[Condition] = dataclasses.field(default_factory=list)
    q: str = ""
    sort: str = ""
    columns: list[str] = dataclasses.field(default_factory=list)
    cursor: str | None = None
    backwards: bool = False
    start: int = 0
    size: int = 50
    #: ``{field: message}`` for conditions that could not be read; the list shows them, no rows.
    errors: dict[str, Any] = dataclasses.field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        return {"view": self.view, "conditions": [c.as_list() for c in self.conditions], "q": self.q,
                "sort": self.sort, "columns": list(self.columns)}

    @classmethod
    def from_params(cls, page: ListPage, params: Mapping[str, Any]) -> ListState:
        state = cls(view=str(params.get("view") or "system:all"), q=str(params.get("q") or ""),
                    sort=str(params.get("sort") or page.default_sort),
                    columns=[str(c) for c in params.get("columns") or default_columns(page)])
        state.conditions = [Condition(*map(str, c)) for c in params.get("conditions") or ()]
        return state


def default_columns(page: ListPage) -> list[str]:
    return [c.field for c in page.columns if c.default]


def state_from_request(request: Any, page: ListPage, setting: ListSetting | None = None,
                       saved: list[SavedView] | None = None) -> ListState:
    """The state the query string asks for, completed from the user's saved view and settings.

    Filters arrive as ``f.<field>`` (value), ``op.<field>`` and ``to.<field>`` (between);
    ``filtered=1`` says the filter form was sent, so its (maybe empty) conditions replace the
    saved view's."""
    get = request.GET
    view = get.get("view") or (setting.default_view if setting and setting.default_view else "system:all")
    state = ListState(view=view[:64])
    saved_view = None
    if view.startswith("saved:"):
        saved_view = next((v for v in saved or () if f"saved:{v.id}" == view), None)
        if saved_view is None:
            state.view = "system:all"
    elif view.removeprefix("system:") not in {v.key for v in page.views}:
        state.view = "system:all"
    state.q = (get.get("q") if "q" in get else (saved_view.q if saved_view else "")).strip()[:MAX_VALUE_LENGTH]
    sort = get.get("sort") or (saved_view.sort if saved_view and saved_view.sort else page.default_sort)
    state.sort = sort if sort.lstrip("-") in page.sort else page.default_sort
    if get.get("filtered"):
        state.conditions = conditions_from_form(page, get, state.errors)
    elif saved_view is not None:
        state.conditions = [Condition(*map(str, c)) for c in saved_view.conditions
                            if isinstance(c, list) and len(c) == 4]
    known = {c.field for c in page.columns}
    chosen = setting.columns if setting and setting.columns else None
    state.columns = [f for f in chosen if f in known] if chosen else default_columns(page)
    state.columns = state.columns or default_columns(page)
    size = get.get("size", "")
    state.size = int(size) if size.isdigit() and int(size) in PAGE_SIZES else page.page_size
    state.cursor = get.get("cursor") or None
    state.backwards = get.get("dir") == "prev"
    start = get.get("start", "")
    state.start = int(start) if start.isdigit() and len(start) < 10 else 0
    for condition in state.conditions:
        problem = condition_problem(page, condition)
        if problem is not None:
            state.errors[condition.field] = problem
    return state


def conditions_from_form(page: ListPage, get: Mapping[str, str], errors: dict[str, Any]) -> list[Condition]:
    conditions = []
    for filter_ in page.filters:
        field = filter_.field
        op = get.get(f"op.{field}", "") or KIND_OPERATORS[page.filter_kind(filter_)][0]
        value = get.get(f"f.{field}", "").strip()
        value2 = get.get(f"to.{field}", "").strip()
        if op in NO_VALUE or value or value2:
            conditions.append(Condition(field, op, value[:MAX_VALUE_LENGTH], value2[:MAX_VALUE_LENGTH]))
    return conditions


def operators_for(page: ListPage, field: str) -> tuple[str, ...]:
    """A sensitive column is matched whole (=), or its masked digits could be probed one by one."""
    if field in sensitive_columns(page.model):
        return ("eq",)
    return KIND_OPERATORS[page.filter_kind(page.filter(field))]


def condition_problem(page: ListPage, condition: Condition) -> Any:
    try:
        filter_ = page.filter(condition.field)
    except KeyError:
        return _("Unknown filter.")
    if condition.op not in operators_for(page, filter_.field):
        return _("This comparison does not apply to this field.")
    try:
        _condition_sql(page, condition)
    except ValueError as exc:
        return exc.args[0]
    return None


def _parse(page: ListPage, field: str, raw: str) -> Any:
    kind = page.filter_kind(page.filter(field))
    column_kind = column_type(page.model.__table__.columns[field])  # type: ignore[attr-defined]
    if kind == "bool" or isinstance(column_kind, Boolean):
        if raw in ("1", "true", "yes"):
            return True
        if raw in ("0", "false", "no"):
            return False
        raise ValueError(_("Choose yes or no."))
    if kind in ("number", "user") or (kind == "choice" and not isinstance(column_kind, Date | DateTime)
                                      and column_kind.python_type in (int,)):
        if kind == "number" and column_kind.python_type is decimal.Decimal:
            try:
                return decimal.Decimal(raw)
            except decimal.InvalidOperation:
                raise ValueError(_("Enter a number.")) from None
        if not INTEGER.match(raw):
            raise ValueError(_("Enter a whole number."))
        return int(raw)
    if kind == "date":
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
        return day
    return raw


def _condition_sql(page: ListPage, condition: Condition, tz: dt.tzinfo = dt.UTC) -> ColumnElement[bool]:
    op = condition.op
    where = page.filter(condition.field).where
    if where is not None:  # a filter on no column (a many-to-many): the addon builds it
        if op not in NO_VALUE and not condition.value:
            raise ValueError(_("Enter a value."))
        return where(op, condition.value, condition.value2) if op in TWO_VALUES else where(op, condition.value)
    column = getattr(page.model, condition.field)
    if op == "empty":
        return or_(column.is_(None), column == "") if _is_text(page, condition.field) else column.is_(None)
    if op == "not_empty":
        return and_(column.is_not(None), column != "") if _is_text(page, condition.field) else column.is_not(None)
    if not condition.value and op not in TWO_VALUES:
        raise ValueError(_("Enter a value."))
    if op in ("contains", "not_contains", "starts", "ends"):
        text = condition.value
        match = {"contains": column.icontains, "not_contains": column.icontains,
                 "starts": column.istartswith, "ends": column.iendswith}[op](text, autoescape=True)
        return or_(not_(match), column.is_(None)) if op == "not_contains" else match
    if page.filter_kind(page.filter(condition.field)) == "date" and _is_datetime(page, condition.field):
        return _date_condition(page, condition, column, tz)
    if op == "between":
        low = _parse(page, condition.field, condition.value) if condition.value else None
        high = _parse(page, condition.field, condition.value2) if condition.value2 else None
        if low is None and high is None:
            raise ValueError(_("Enter a value."))
        parts = ([column >= low] if low is not None else []) + ([column <= high] if high is not None else [])
        return and_(*parts)
    value = _parse(page, condition.field, condition.value)
    return {"eq": column == value, "ne": or_(column != value, column.is_(None)), "gt": column > value,
            "ge": column >= value, "lt": column < value, "le": column <= value}[op]


def _date_condition(page: ListPage, condition: Condition, column: Any, tz: dt.tzinfo) -> ColumnElement[bool]:
    """A day on a timestamp column is that day in the user's time zone: from its local midnight
    to the next one."""

    def start(raw: str) -> dt.datetime:
        day = _parse(page, condition.field, raw)
        return dt.datetime.combine(day, dt.time(), tzinfo=tz)
    one_day = dt.timedelta(days=1)
    op = condition.op
    if op == "between":
        parts = []
        if condition.value:
            parts.append(column >= start(condition.value))
        if condition.value2:
            parts.append(column < start(condition.value2) + one_day)
        if not parts:
            raise ValueError(_("Enter a value."))
        return and_(*parts)
    first = start(condition.value)
    return {"eq": and_(column >= first, column < first + one_day), "gt": column >= first + one_day,
            "ge": column >= first, "lt": column < first, "le": column < first + one_day}[op]


def user_timezone(ctx: Any) -> dt.tzinfo:
    """The time zone dates in filters are read in: the user's, else the installation's — the
    same in a request and in an export job."""
    from core.jobs.periodic import installation_timezone

    name = getattr(ctx.user, "timezone", None)
    try:
        return zoneinfo.ZoneInfo(name) if name else installation_timezone(ctx.settings or {})
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _is_text(page: ListPage, field: str) -> bool:
    return column_type(page.model.__table__.columns[field]).python_type is str  # type: ignore[attr-defined]


def _is_datetime(page: ListPage, field: str) -> bool:
    return isinstance(column_type(page.model.__table__.columns[field]), DateTime)  # type: ignore[attr-defined]


def page_condition(ctx: Any, page: ListPage, action: str = "read") -> ColumnElement[bool]:
    """The rows of ``page`` the user may ``action``: the record scope, or the page's own
    ``base_condition`` — with the permission required either way (PermissionDenied)."""
    if page.base_condition is None:
        return scope_condition(ctx, page.model, action)
    ctx.access.require(f"{page.access_key}:{action}")
    return page.base_condition(ctx, page, action)


def filtered_select(ctx: Any, page: ListPage, state: ListState, action: str = "read") -> Select[Any]:
    """``select(model)`` inside the user's scope for ``action``, narrowed by the view, the
    conditions and the search text. Unordered: callers add the order they need."""
    model = page.model
    query = select(model).where(page_condition(ctx, page, action))
    view = next((v for v in page.views if f"system:{v.key}" == state.view), None)
    if view is not None and view.condition is not None:
        condition = view.condition(ctx, page)
        if condition is not None:
            query = query.where(condition)
    tz = user_timezone(ctx)
    for condition in state.conditions:
        query = query.where(_condition_sql(page, condition, tz))
    if state.q and page.search:
        searched = page.search_condition or (lambda _ctx, page, q: search_condition(page, q))
        query = query.where(searched(ctx, page, state.q))
    return query


def search_condition(page: ListPage, q: str) -> ColumnElement[bool]:
    """Text columns contain ``q``; a sensitive column (a phone) matches only the whole value,
    so a search cannot probe masked digits."""
    sensitive = sensitive_columns(page.model)
    parts = []
    for field in page.search:
        column = getattr(page.model, field)
        parts.append(column == q if field in sensitive else column.icontains(q, autoescape=True))
    return or_(*parts)


def count(ctx: Any, page: ListPage, state: ListState, *, limit: int | None = None) -> int:
    """How many rows match, counted up to ``limit + 1``: beyond that the list says "10,000+".
    Counting every one of 150,000 matches of a broad search (科技) reads them all, and costs more
    than the page it labels; nobody pages that far, they narrow the search."""
    limit = COUNT_LIMIT if limit is None else limit
    matching = filtered_select(ctx, page, state).with_only_columns(page.model.id).order_by(None).limit(limit + 1)
    return ctx.dbsession.scalar(select(func.count()).select_from(matching.subquery())) or 0


def total_label(total: int, *, limit: int | None = None) -> str:
    """The count as shown: exact up to ``limit``, then "10,000+"."""
    limit = COUNT_LIMIT if limit is None else limit
    return f"{limit:,}+" if total > limit else str(total)


@dataclasses.dataclass
class Page:
    records: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def keyset_page(ctx: Any, page: ListPage, state: ListState) -> Page:
    """One page after (or, going back, before) the cursor, ordered by the sort and then id."""
    model = page.model
    field = state.sort.lstrip("-")
    descending = state.sort.startswith("-")
    sort_column, id_column = getattr(model, field), model.id
    query = filtered_select(ctx, page, state)
    if page.eager is not None:
        query = page.eager(query)
    has_cursor = False
    if state.cursor:
        try:
            value, last_id = decode_cursor(lambda f: model.__table__.columns[f], state.sort, state.cursor)
        except BadCursor:
            state.cursor = None
        else:
            has_cursor = True
            smaller = descending != state.backwards  # whether the wanted rows have smaller keys
            if field == "id":
                after = id_column < last_id if smaller else id_column > last_id
            elif smaller:
                after = or_(sort_column < value, and_(sort_column == value, id_column < last_id))
            else:
                after = or_(sort_column > value, and_(sort_column == value, id_column > last_id))
            query = query.where(after)
    reverse = state.backwards and has_cursor
    go_down = descending != reverse
    order = [sort_column.desc(), id_column.desc()] if go_down else [sort_column.asc(), id_column.asc()]
    if field == "id":
        order = order[1:]
    records = list(ctx.dbsession.scalars(query.order_by(*order).limit(state.size + 1)).unique())
    more = len(records) > state.size
    records = records[:state.size]
    if reverse:
        records.reverse()
    if not records:
        return Page([], None, None)
    first, last = records[0], records[-1]
    has_next, has_prev = (True, more) if reverse else (more, has_cursor)
    next_cursor = encode_cursor(state.sort, getattr(last, field), last.id) if has_next else None
    prev_cursor = encode_cursor(state.sort, getattr(first, field), first.id) if has_prev else None
    return Page(records, next_cursor, prev_cursor)


def visible_columns(page: ListPage, state: ListState) -> list[Column]:
    chosen = set(state.columns)
    return [c for c in page.columns if c.field in chosen] or [c for c in page.columns if c.default]


def cell_value(ctx: Any, page: ListPage, column: Column, record: Any, *, reveal: bool | None = None) -> Any:
    """What a cell shows: the column's ``render`` or the attribute, masked for readers without
    ``see_sensitive`` (``reveal`` may be passed in to decide once per page, not per cell)."""
    if column.render is not None:
        return column.render(ctx, record)
    value = getattr(record, column.field)
    kind = sensitive_columns(page.model).get(column.field)
    if kind:
        if reveal is None:
            reveal = may_see_sensitive(ctx, page.model)
        if not reveal:
            return mask(kind, value)
    return value


# -- what the user keeps -------------------------------------------------------------------

def list_setting(session: Session, user_id: int, list_key: str) -> ListSetting | None:
    return session.scalar(select(ListSetting).where(ListSetting.user_id == user_id,
                                                    ListSetting.list_key == list_key))


def saved_views(session: Session, user_id: int, list_key: str) -> list[SavedView]:
    return list(session.scalars(select(SavedView).where(SavedView.user_id == user_id, SavedView.list_key == list_key)
                                .order_by(SavedView.position, SavedView.id)))
