"""``ListPage``: an addon declares a list page once and gets the page, its saved views (场景),
column chooser, bulk actions, stars and CSV/XLSX export.

```python
config.add_list_page(ListPage(
    key="customers.customers", model=Customer, title=_("Customers"), path="/customers",
    columns=(Column("name", _("Name"), sortable=True, link=True),
             Column("mobile", _("Mobile")),                     # sensitive: masked per reader
             Column("owner", _("Owner"), render=owner_name)),
    filters=(Filter("level", _("Level"), choices=LEVELS), Filter("created_at", _("Created"))),
    search=("name", "mobile"), sort=("id", "name", "updated_at"), default_sort="-id",
    detail_route="customers.detail",
    bulk_actions=(assign_action(services.assign), delete_action(services.delete_customer)),
))
```

Every row a list shows, counts or exports comes through ``scope_condition`` (X1) and leaves
through masking (X6); bulk actions call the addon's services, so their permission checks and
audit entries hold exactly as for one record.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.i18n import TranslationString
from sqlalchemy import BigInteger, Boolean, ColumnElement, Date, DateTime, Integer, Numeric, SmallInteger, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import InstrumentedAttribute

from core.access.masking import sensitive_columns
from core.api.resources import column_type
from core.i18n import _

Label = str | TranslationString
KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

#: Operators of a condition (D-VIEW) and the filter kinds each applies to.
OPERATORS: dict[str, Label] = {
    "eq": _("is"),
    "ne": _("is not"),
    "contains": _("contains"),
    "not_contains": _("does not contain"),
    "starts": _("starts with"),
    "ends": _("ends with"),
    "empty": _("is empty"),
    "not_empty": _("is not empty"),
    "gt": _("greater than"),
    "ge": _("at least"),
    "lt": _("less than"),
    "le": _("at most"),
    "between": _("between"),
}
KIND_OPERATORS: dict[str, tuple[str, ...]] = {
    "text": ("contains", "eq", "ne", "not_contains", "starts", "ends", "empty", "not_empty"),
    "number": ("eq", "ne", "gt", "ge", "lt", "le", "between", "empty", "not_empty"),
    "date": ("eq", "gt", "ge", "lt", "le", "between", "empty", "not_empty"),
    "bool": ("eq",),
    "choice": ("eq", "ne", "empty", "not_empty"),
    "user": ("eq", "ne", "empty", "not_empty"),
}
#: Operators that take no value, and the one that takes two.
NO_VALUE = frozenset({"empty", "not_empty"})
TWO_VALUES = frozenset({"between"})


@dataclasses.dataclass(frozen=True)
class Column:
    """A column of the list. ``render(ctx, record)`` gives the cell's value when it is not simply
    the (masked) attribute ``field``; it must return text or a number, never HTML (cells are
    escaped). ``default`` columns show until the user picks others in the column chooser."""

    field: str
    label: Label
    sortable: bool = False
    default: bool = True
    link: bool = False
    render: Callable[[Any, Any], Any] | None = None
    export: bool = True


@dataclasses.dataclass(frozen=True)
class Filter:
    """A filter on the column ``field``; its ``kind`` (text, number, date, bool, choice, user)
    follows the column's type unless given. ``choices`` — ``[(value, label)]`` or
    ``callable(ctx) -> [(value, label)]`` — make it a choice filter.

    ``where(op, value)`` builds the condition itself, for a filter on no column of the model —
    a many-to-many such as tags: ``Customer.id.in_(select(link.customer_id).where(...))`` (index
    the link table's column). ``value`` is the text typed or chosen; a ValueError carrying a
    translation string refuses it. Such a filter names its ``kind`` or ``choices``."""

    field: str
    label: Label
    kind: str = ""
    choices: Sequence[tuple[Any, Label]] | Callable[[Any], Sequence[tuple[Any, Label]]] | None = None
    where: Callable[[str, str], ColumnElement[bool]] | None = None

    def choice_list(self, ctx: Any) -> list[tuple[Any, Label]]:
        if self.choices is None:
            return []
        return list(self.choices(ctx) if callable(self.choices) else self.choices)


@dataclasses.dataclass(frozen=True)
class SystemView:
    """A view every user has (全部, 我负责的, 下属负责的, 我关注的, or the addon's own such as
    "已转化的线索"): ``condition(ctx, page)`` returns the WHERE clause, or None for all."""

    key: str
    label: Label
    condition: Callable[[Any, ListPage], ColumnElement[bool] | None] | None = None


@dataclasses.dataclass(frozen=True)
class BulkAction:
    """An action on the selected rows (or every row the list matches), confirmed with the
    count first. ``apply(ctx, records, value)`` calls the addon's services and returns how
    many records it changed; ``action`` is the scope action the records are loaded with
    (``write``, ``delete``), so rows the user may see but not change are never touched.
    ``field``/``choices`` ask for a value first (the new owner, a level); ``field`` with
    ``text`` asks for a line of text instead (a reason, up to ``TEXT_MAX`` characters)."""

    key: str
    label: Label
    apply: Callable[[Any, list[Any], Any], int]
    action: str = "write"
    field: str | None = None
    field_label: Label | None = None
    choices: Sequence[tuple[Any, Label]] | Callable[[Any], Sequence[tuple[Any, Label]]] | None = None
    danger: bool = False
    text: bool = False

    TEXT_MAX = 500

    def choice_list(self, ctx: Any) -> list[tuple[Any, Label]]:
        if self.choices is None:
            return []
        return list(self.choices(ctx) if callable(self.choices) else self.choices)


@dataclasses.dataclass(frozen=True)
class RowAction:
    """A button on every row that opens ``route`` (a route with an ``{id}``) for that record: a
    small form such as 写跟进 without leaving the list. With JavaScript the page loads into the
    list's dialog (htmx: answer an ``HX-Request`` with just the form), without it opens as a
    page. The link carries ``next`` = the list's own URL, so the form's POST can come back to
    the list (through ``safe_next``) with its flash. ``permission`` (a full name such as
    ``customers.followup:create``) hides the button from users who lack it; ``icon`` is a
    Bootstrap icon name (the label is hidden on phones)."""

    key: str
    label: Label
    route: str
    permission: str | None = None
    icon: str = "lightning"


@dataclasses.dataclass(frozen=True)
class ListPage:
    """One list page of an addon (see the module docstring). ``key`` is ``<addon>.<name>``;
    its routes are ``<key>.list`` (``path``), ``.bulk``, ``.views``, ``.settings``, ``.export``
    and ``.star``. ``eager(select)`` may add loader options (``selectinload``) so related
    objects a ``render`` uses cost one query per page, not one per row."""

    key: str
    model: type
    title: Label
    path: str
    columns: tuple[Column, ...]
    filters: tuple[Filter, ...] = ()
    search: tuple[str, ...] = ()
    sort: tuple[str, ...] = ("id",)
    default_sort: str = "-id"
    detail_route: str | None = None
    new_route: str | None = None
    #: The key of the addon's ``ImportSpec`` (``config.add_import``): an "Import" button.
    import_key: str | None = None
    bulk_actions: tuple[BulkAction, ...] = ()
    system_views: tuple[SystemView, ...] | None = None
    export: bool = True
    eager: Callable[[Any], Any] | None = None
    page_size: int = 50
    #: ``base_condition(ctx, page, action)`` replaces the record scope as the rows' base (the
    #: 公海 list shows customers without an owner in the reader's pools, which no owner scope
    #: reaches); the ``<access_key>:<action>`` permission is still required.
    base_condition: Callable[[Any, ListPage, str], ColumnElement[bool]] | None = None
    #: Per-row buttons (``RowAction``), shown in the last column.
    row_actions: tuple[RowAction, ...] = ()
    #: ``search_condition(ctx, page, q)`` replaces the contains-match of the ``search`` columns
    #: with the addon's own WHERE clause, for a model with its own search index (trigram, full
    #: text) that a leading-% LIKE cannot use. ``search`` still names the columns searched.
    search_condition: Callable[[Any, ListPage, str], ColumnElement[bool]] | None = None
    #: ``adapt(ctx, page)`` returns the page as this request sees it, for what depends on the
    #: installed addons (a column only some addon fills, such as the key customers' value);
    #: applied wherever custom fields are (list, bulk, saved views, export).
    adapt: Callable[[Any, ListPage], ListPage] | None = None

    @property
    def addon(self) -> str:
        return self.key.split(".")[0]

    @property
    def access_key(self) -> str:
        return self.model.access_key  # type: ignore[attr-defined, no-any-return]

    @property
    def views(self) -> tuple[SystemView, ...]:
        from core.lists.system_views import DEFAULT_SYSTEM_VIEWS

        return DEFAULT_SYSTEM_VIEWS if self.system_views is None else self.system_views

    def route(self, what: str) -> str:
        return f"{self.key}.{what}"

    def column(self, field: str) -> Column:
        for column in self.columns:
            if column.field == field:
                return column
        raise KeyError(field)

    def filter(self, field: str) -> Filter:
        for filter_ in self.filters:
            if filter_.field == field:
                return filter_
        raise KeyError(field)

    def filter_kind(self, filter_: Filter) -> str:
        if filter_.kind:
            return filter_.kind
        if filter_.choices is not None:
            return "choice"
        if filter_.field == "owner_id":
            return "user"
        kind = column_type(self.model.__table__.columns[filter_.field])  # type: ignore[attr-defined]
        if isinstance(kind, Boolean):
            return "bool"
        if isinstance(kind, Integer | SmallInteger | BigInteger | Numeric):
            return "number"
        if isinstance(kind, Date | DateTime):
            return "date"
        return "text"

    def bulk_action(self, key: str) -> BulkAction:
        for action in self.bulk_actions:
            if action.key == key:
                return action
        raise KeyError(key)

    def check(self) -> None:
        """Refuse a declaration that could not work, at start-up rather than at the first request."""
        problems = list(_problems(self))
        if problems:
            raise ConfigurationError(f"list page {self.key!r}: " + "; ".join(problems))


def _problems(page: ListPage) -> Any:
    if not KEY.match(page.key):
        yield "the key is '<addon>.<name>' in lowercase letters, digits and '_'"
    model = page.model
    if not isinstance(getattr(model, "access_key", None), str):
        yield "the model needs an access_key '<addon>.<model>' (derive it from core.access.scopes.Owned)"
        return
    columns = sa_inspect(model).local_table.columns
    attributes = set(sa_inspect(model).all_orm_descriptors.keys())
    sensitive = sensitive_columns(model)
    for column in page.columns:
        if column.render is None and column.field not in attributes:
            yield f"column {column.field!r} is not an attribute of {model.__name__} (give it a render)"
        if column.sortable and column.field not in page.sort:
            yield f"column {column.field!r} is sortable but not among sort"
    for filter_ in page.filters:
        if filter_.where is not None:
            if filter_.field in columns:
                yield f"filter {filter_.field!r} has a where but names a column"
            elif not filter_.kind and filter_.choices is None:
                yield f"filter {filter_.field!r} has a where: give it a kind or choices"
            elif page.filter_kind(filter_) not in KIND_OPERATORS:
                yield f"filter {filter_.field!r}: unknown kind {filter_.kind!r}"
        elif filter_.field not in columns:
            yield f"filter {filter_.field!r} names no column"
        elif filter_.field in sensitive and filter_.kind != "text":
            yield f"filter {filter_.field!r} is sensitive: only a text filter (exact match) fits it"
        elif page.filter_kind(filter_) not in KIND_OPERATORS:
            yield f"filter {filter_.field!r}: unknown kind {filter_.kind!r}"
    for field in page.search:
        if field not in columns or not isinstance(column_type(columns[field]), String):
            yield f"search column {field!r} is not a text column"
    for field in page.sort:
        if field not in columns:
            yield f"sort field {field!r} is not a column"
        elif columns[field].nullable:
            yield f"sort field {field!r} is nullable: keyset pagination needs non-null sort keys"
        elif field in sensitive:
            yield f"sort field {field!r} is sensitive: its order would reveal masked values"
    indexed = indexed_columns(model)
    for field in sorted({f.field for f in page.filters} | set(page.sort)):
        if field in columns and field not in indexed:
            yield (f"{field!r} is filtered or sorted on but has no index leading with it "
                   f"(mapped_column(..., index=True), or an Index in __table_args__, and in the migration)")
    if page.default_sort.lstrip("-") not in page.sort:
        yield f"default_sort {page.default_sort!r} is not among sort"
    keys = [view.key for view in page.views]
    if len(keys) != len(set(keys)):
        yield "two system views share a key"
    bulk = [action.key for action in page.bulk_actions]
    if len(bulk) != len(set(bulk)):
        yield "two bulk actions share a key"
    row = [action.key for action in page.row_actions]
    if len(row) != len(set(row)):
        yield "two row actions share a key"


def indexed_columns(model: type) -> set[str]:
    """Columns that lead an index, a unique constraint or the primary key: a filter or sort on
    them need not scan the table."""
    table = sa_inspect(model).local_table
    leading = {next(iter(index.columns)).name for index in table.indexes if index.columns}
    leading |= {next(iter(c.columns)).name for c in table.constraints
                if getattr(c, "columns", None) and len(c.columns)}
    leading |= {column.name for column in table.columns if column.index or column.unique or column.primary_key}
    return leading


def attribute(model: type, field: str) -> InstrumentedAttribute:
    return getattr(model, field)  # type: ignore[no-any-return]
