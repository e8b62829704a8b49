"""The ``config.add_list_page(page)`` directive and the views every list page shares: the list,
bulk actions (confirmed with their count), saved views and settings, stars, export.

A list page costs a fixed number of queries whatever its size: the user's settings and saved
views, the total, one page of rows (plus the page's ``eager`` loads) and the stars among them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import func, select
from webob.multidict import MultiDict

from core.access.exceptions import RecordNotFound
from core.access.masking import may_see_sensitive
from core.exceptions import KehuError
from core.i18n import _
from core.lists import query as lq
from core.lists import saved_views as sv
from core.lists.custom_fields import with_custom_fields
from core.lists.declaration import NO_VALUE, OPERATORS, TWO_VALUES, BulkAction, ListPage
from core.lists.models import Star
from core.lists.registry import check_declared, list_pages
from core.web.forms import flash_done

#: "Every matching row" acts on at most this many records at once.
MAX_BULK = 5000
#: Query parameters that belong to the list's state (kept across views, pages and actions).
STATE_PARAMS = ("view", "q", "sort", "size", "filtered")


def add_list_page(config: Configurator, page: ListPage) -> None:
    """Routes ``<key>.list`` (``page.path``), ``.bulk``, ``.views``, ``.settings``, ``.export``
    and ``.star``, their views, and the page's place in the registry (for export jobs). Two
    pages with one key fail at start-up."""
    page.check()
    package = config.package_name
    runtime = config.registry.get("kehu.addons")
    owner = runtime.catalog.get(page.addon) if runtime is not None and page.addon in runtime.catalog else None
    if runtime is not None and (owner is None or owner.package != package):
        raise ConfigurationError(f"list page {page.key!r}: its key must start with the name of the addon "
                                 f"that declares it ({package})")
    check_declared(page, package)
    views = _PerRequest(page)
    read = f"{page.access_key}:read"
    path = page.path.rstrip("/")
    config.add_route(page.route("list"), path)
    config.add_route(page.route("bulk"), f"{path}/bulk")
    config.add_route(page.route("views"), f"{path}/views")
    config.add_route(page.route("settings"), f"{path}/settings")
    config.add_route(page.route("export"), f"{path}/export")
    config.add_route(page.route("star"), f"{path}/{{id:\\d+}}/star")
    config.add_view(views.list, route_name=page.route("list"), request_method="GET", permission=read,
                    renderer="core/lists/list.jinja2")
    config.add_view(views.bulk, route_name=page.route("bulk"), request_method="POST", permission=read,
                    renderer="core/lists/bulk_confirm.jinja2")
    config.add_view(views.saved_views, route_name=page.route("views"), request_method="POST", permission=read)
    config.add_view(views.settings, route_name=page.route("settings"), request_method="POST", permission=read)
    config.add_view(views.export, route_name=page.route("export"), request_method="GET",
                    permission=f"{page.access_key}:export")
    config.add_view(views.star, route_name=page.route("star"), request_method="POST", permission=read)

    def register() -> None:
        list_pages(config.registry)[page.key] = page

    intr = config.introspectable("kehu list pages", page.key, page.path, "kehu list page")
    intr["page"] = page
    config.action(("kehu.list_page", page.key), register, introspectables=(intr,))


class _PerRequest:
    """The page's views, each seeing the page as this request does: with the custom fields
    admins have defined for its model by now (``core.lists.custom_fields``)."""

    def __init__(self, page: ListPage) -> None:
        self.page = page

    def __getattr__(self, name: str) -> Callable[[Request], Any]:
        def view(request: Request) -> Any:
            return getattr(ListViews(with_custom_fields(request.ctx, self.page)), name)(request)

        view.__name__ = name
        return view


class ListViews:
    def __init__(self, page: ListPage) -> None:
        self.page = page

    # -- the list ----------------------------------------------------------------------------

    def list(self, request: Request) -> dict[str, Any]:
        page, ctx = self.page, request.ctx
        setting = lq.list_setting(ctx.dbsession, ctx.user.id, page.key)
        saved = lq.saved_views(ctx.dbsession, ctx.user.id, page.key)
        state = lq.state_from_request(request, page, setting, saved)
        total, rows, result = 0, [], lq.Page([], None, None)
        if not state.errors:
            total = lq.count(ctx, page, state)
            result = lq.keyset_page(ctx, page, state) if total else result
            rows = self._rows(request, state, result.records)
        hidden = set(setting.hidden_views) if setting else set()
        return {
            "page": page,
            "page_title": page.title,
            "state": state,
            "total": total,
            "total_label": lq.total_label(total),
            "rows": rows,
            "columns": lq.visible_columns(page, state),
            "tabs": self._tabs(request, state, setting, saved, hidden),
            "hidden_tabs": [t for t in self._tabs(request, state, setting, saved, set()) if t["key"] in hidden],
            "default_view": (setting.default_view if setting else None) or "system:all",
            "filters": self._filters(request, state),
            "bulk_actions": [a for a in page.bulk_actions if ctx.access.can(f"{page.access_key}:{a.action}")],
            "row_actions": self._row_actions(ctx),
            "can_export": page.export and ctx.access.can(f"{page.access_key}:export"),
            "can_import": page.import_key is not None and (ctx.access.can(f"{page.access_key}:create")
                                                          or ctx.access.can(f"{page.access_key}:write")),
            "state_query": state_query(state),
            "next_url": self._page_url(request, state, result.next_cursor, "next", len(rows)),
            "prev_url": self._page_url(request, state, result.prev_cursor, "prev", len(rows)),
            "first_row": state.start + 1 if rows else 0,
            "page_sizes": lq.PAGE_SIZES,
            "sort_urls": self._sort_urls(request, state),
            "size_urls": {size: list_url(request, page) + "?" + urlencode(
                [(k, v) for k, v in state_query(state) if k != "size"] + [("size", str(size))])
                for size in lq.PAGE_SIZES},
            "operators": OPERATORS,
        }

    def _rows(self, request: Request, state: lq.ListState, records: list[Any]) -> list[dict[str, Any]]:
        page, ctx = self.page, request.ctx
        if not records:
            return []
        reveal = may_see_sensitive(ctx, page.model)
        ids = [record.id for record in records]
        starred = set(ctx.dbsession.scalars(select(Star.record_id).where(
            Star.user_id == ctx.user.id, Star.model == page.model.__tablename__, Star.record_id.in_(ids))))
        columns = lq.visible_columns(page, state)
        detail = url_maker(request, page.detail_route) if page.detail_route else None
        star = url_maker(request, page.route("star"))
        back = "?" + urlencode({"next": request.path_qs})
        actions = [(action, url_maker(request, action.route)) for action in self._row_actions(ctx)]
        rows = []
        for record in records:
            url = detail(record.id) if detail is not None else None
            cells = [(column, lq.cell_value(ctx, page, column, record, reveal=reveal)) for column in columns]
            rows.append({"record": record, "id": record.id, "url": url, "cells": cells,
                         "starred": record.id in starred, "star_url": star(record.id),
                         "actions": [(action, make(record.id) + back) for action, make in actions]})
        return rows

    def _row_actions(self, ctx: Any) -> list[Any]:
        return [a for a in self.page.row_actions if a.permission is None or ctx.access.can(a.permission)]

    def _tabs(self, request: Request, state: lq.ListState, setting: Any, saved: list[Any],
              hidden: set[str]) -> list[dict[str, Any]]:
        labels: dict[str, Any] = {f"system:{v.key}": v.label for v in self.page.views}
        labels.update({f"saved:{v.id}": v.name for v in saved})
        tabs = []
        for key in sv.ordered_view_keys(self.page, setting, saved):
            if key in hidden and key != state.view:
                continue
            tabs.append({"key": key, "label": labels[key], "saved": key.startswith("saved:"),
                         "active": key == state.view,
                         "url": request.route_path(self.page.route("list"), _query={"view": key})})
        return tabs

    def _filters(self, request: Request, state: lq.ListState) -> list[dict[str, Any]]:
        page = self.page
        current = {c.field: c for c in state.conditions}
        filters = []
        for filter_ in page.filters:
            kind = page.filter_kind(filter_)
            choices = filter_.choice_list(request.ctx)
            if kind == "user":
                choices = active_users(request.ctx)
            condition = current.get(filter_.field)
            filters.append({"field": filter_.field, "label": filter_.label, "kind": kind, "choices": choices,
                            "operators": lq.operators_for(page, filter_.field),
                            "op": condition.op if condition else "", "value": condition.value if condition else "",
                            "value2": condition.value2 if condition else "",
                            "error": state.errors.get(filter_.field), "no_value": NO_VALUE,
                            "two_values": TWO_VALUES})
        return filters

    def _sort_urls(self, request: Request, state: lq.ListState) -> dict[str, str]:
        """Each sortable column's link: by it ascending, or reversed when it is the sort already."""
        base = [(k, v) for k, v in state_query(state) if k != "sort"]
        urls = {}
        for column in self.page.columns:
            if column.sortable:
                target = column.field if state.sort != column.field else f"-{column.field}"
                urls[column.field] = request.route_path(self.page.route("list")) + "?" + urlencode(
                    [*base, ("sort", target)])
        return urls

    def _page_url(self, request: Request, state: lq.ListState, cursor: str | None, direction: str,
                  shown: int) -> str | None:
        if cursor is None:
            return None
        start = state.start + shown if direction == "next" else max(state.start - state.size, 0)
        params = [*state_query(state), ("cursor", cursor), ("start", str(start))]
        if direction == "prev":
            params.append(("dir", "prev"))
        return request.route_path(self.page.route("list")) + "?" + urlencode(params)

    # -- bulk actions --------------------------------------------------------------------------

    def bulk(self, request: Request) -> Any:
        """Step one shows what would change and how many records (nothing written); step two
        (``confirm``) applies the action through the addon's service, in one transaction."""
        page, ctx = self.page, request.ctx
        try:
            action = page.bulk_action(request.POST.get("action", ""))
        except KeyError:
            raise HTTPBadRequest() from None
        state = self._state_from_post(request)
        back = list_url(request, page, state)
        if state.errors:
            request.session.flash(request.localizer.translate(_("Correct the filters first.")), "danger")
            return HTTPSeeOther(back)
        query = self._bulk_select(request, action, state)
        if query is None:
            request.session.flash(request.localizer.translate(_("Select at least one row.")), "warning")
            return HTTPSeeOther(back)
        selected = ctx.dbsession.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
        choices = action.choice_list(ctx)
        value = request.POST.get("value", "")
        error = self._value_error(action, choices, value)
        if not request.POST.get("confirm") or error is not None:
            shown = error if "value" in request.POST else None
            return self._confirm(request, action, state, back, choices, count=selected, value=value, error=shown)
        if selected > MAX_BULK:
            request.session.flash(request.localizer.translate(
                _("At most ${max} records at once: narrow the list first.", mapping={"max": MAX_BULK})), "danger")
            return HTTPSeeOther(back)
        records = list(ctx.dbsession.scalars(query.order_by(page.model.id)).unique())
        choice_value = value.strip() if action.text else next((v for v, _label in choices if str(v) == value), None)
        try:
            with ctx.dbsession.begin_nested():
                changed = action.apply(ctx, records, choice_value)
        except KehuError as exc:
            request.session.flash(request.localizer.translate(exc.translation_string), "danger")
            return HTTPSeeOther(back)
        flash_done(request, _("${label}: ${count} records changed.",
                              mapping={"label": request.localizer.translate(action.label), "count": changed}))
        return HTTPSeeOther(back)

    @staticmethod
    def _value_error(action: BulkAction, choices: list, value: str) -> Any:
        """Why the value the action asks for cannot be used, or None (also when it asks none)."""
        if not action.field:
            return None
        if action.text:
            if not value.strip():
                return _("Enter a value.")
            if len(value.strip()) > action.TEXT_MAX:
                return _("At most ${max} characters.", mapping={"max": action.TEXT_MAX})
            return None
        return None if value in {str(v) for v, _label in choices} else _("Choose a value.")

    def _state_from_post(self, request: Request) -> lq.ListState:
        """The list's state travels in the bulk form as the list's own query string."""
        raw = request.POST.get("query", "")[:4000]
        fake = _GetOnly(MultiDict(_parse_qsl(raw)))
        ctx = request.ctx
        setting = lq.list_setting(ctx.dbsession, ctx.user.id, self.page.key)
        saved = lq.saved_views(ctx.dbsession, ctx.user.id, self.page.key)
        return lq.state_from_request(fake, self.page, setting, saved)

    def _bulk_select(self, request: Request, action: BulkAction, state: lq.ListState) -> Any:
        page, ctx = self.page, request.ctx
        if request.POST.get("scope") == "all":
            return lq.filtered_select(ctx, page, state, action.action)
        ids = [int(i) for i in request.POST.getall("ids") if i.isdigit() and len(i) <= 10][:MAX_BULK]
        if not ids:
            return None
        return select(page.model).where(lq.page_condition(ctx, page, action.action), page.model.id.in_(ids))

    def _confirm(self, request: Request, action: BulkAction, state: lq.ListState, back: str, choices: list,
                 *, count: int, value: str = "", error: Any = None) -> dict[str, Any]:
        selected = len(request.POST.getall("ids"))
        return {"page": self.page, "page_title": action.label, "action": action, "choices": choices,
                "count": count, "selected": selected, "value": value, "error": error, "back": back,
                "query": request.POST.get("query", ""), "scope": request.POST.get("scope", ""),
                "ids": request.POST.getall("ids"), "too_many": (count or 0) > MAX_BULK, "max_bulk": MAX_BULK}

    # -- views, settings, stars, export ---------------------------------------------------------

    def saved_views(self, request: Request) -> Response:
        page, ctx = self.page, request.ctx
        op = request.POST.get("op", "")
        key = request.POST.get("key", "")[:64]
        target = list_url(request, page)
        try:
            if op == "save":
                state = self._state_from_post(request)
                view = sv.save_view(ctx, page, request.POST.get("name", ""), state)
                target = request.route_path(page.route("list"), _query={"view": f"saved:{view.id}"})
                flash_done(request, _("View saved."))
            elif op == "delete":
                raw = key.removeprefix("saved:")
                sv.delete_view(ctx, page, int(raw) if raw.isdigit() and len(raw) <= 10 else 0)
                flash_done(request, _("View deleted."))
            elif op == "default":
                sv.set_default_view(ctx, page, key)
                target = request.route_path(page.route("list"), _query={"view": key})
                flash_done(request, _("This view now opens by default."))
            elif op in ("hide", "show"):
                sv.set_view_hidden(ctx, page, key, op == "hide")
            elif op in ("left", "right"):
                sv.move_view(ctx, page, key, -1 if op == "left" else 1)
                target = request.route_path(page.route("list"), _query={"view": key})
            else:
                raise HTTPBadRequest()
        except KehuError as exc:
            request.session.flash(request.localizer.translate(exc.translation_string), "danger")
            back = request.POST.get("query", "")
            return HTTPSeeOther(list_url(request, page) + (f"?{back}" if back else ""))
        return HTTPSeeOther(target)

    def settings(self, request: Request) -> Response:
        fields = None if request.POST.get("reset") else request.POST.getall("columns")
        sv.set_columns(request.ctx, self.page, fields)
        back = request.POST.get("query", "")[:4000]
        return HTTPSeeOther(list_url(request, self.page) + (f"?{back}" if back else ""))

    def star(self, request: Request) -> Any:
        """Star or unstar a record the user can see on this page (its scope, or its
        ``base_condition``); htmx swaps the button, others go back."""
        page, ctx = self.page, request.ctx
        record = ctx.dbsession.scalar(select(page.model).where(lq.page_condition(ctx, page, "read"),
                                                               page.model.id == int(request.matchdict["id"])))
        if record is None:
            raise RecordNotFound()
        starred = toggle_star(ctx, page.model.__tablename__, record.id)
        if request.headers.get("HX-Request"):
            from pyramid.renderers import render_to_response

            return render_to_response("core/lists/star.jinja2", {"page": page, "id": record.id, "starred": starred},
                                      request=request)
        back = request.POST.get("query", "")[:4000]
        return HTTPSeeOther(list_url(request, page) + (f"?{back}" if back else ""))

    def export(self, request: Request) -> Response:
        from core.lists.export import export_response

        return export_response(request, self.page)


#: Stands for the id while a route's URL is generated once per page (route patterns take \\d+).
ID_SENTINEL = 918273645


def url_maker(request: Request, route: str) -> Callable[[int], str]:
    """``route``'s URL for any id from one generation: route_path per row costs more than the
    row's cells."""
    prefix, _sentinel, suffix = request.route_path(route, id=ID_SENTINEL).partition(str(ID_SENTINEL))
    return lambda record_id: f"{prefix}{record_id}{suffix}"


def toggle_star(ctx: Any, model: str, record_id: int) -> bool:
    """Star the record, or unstar it if it was starred; returns whether it is starred now."""
    star = ctx.dbsession.scalar(select(Star).where(Star.user_id == ctx.user.id, Star.model == model,
                                                   Star.record_id == record_id))
    if star is not None:
        ctx.dbsession.delete(star)
        ctx.dbsession.flush()
        return False
    ctx.dbsession.add(Star(user_id=ctx.user.id, model=model, record_id=record_id))
    ctx.dbsession.flush()
    return True


def state_query(state: lq.ListState) -> list[tuple[str, str]]:
    """The state as query parameters: what links, forms and the export carry along."""
    params = [("view", state.view)]
    if state.q:
        params.append(("q", state.q))
    params.append(("sort", state.sort))
    params.append(("size", str(state.size)))
    params.append(("filtered", "1"))
    for condition in state.conditions:
        params.append((f"op.{condition.field}", condition.op))
        if condition.value:
            params.append((f"f.{condition.field}", condition.value))
        if condition.value2:
            params.append((f"to.{condition.field}", condition.value2))
    return params


def list_url(request: Request, page: ListPage, state: lq.ListState | None = None) -> str:
    url = request.route_path(page.route("list"))
    return url + "?" + urlencode(state_query(state)) if state is not None else url


def active_users(ctx: Any) -> list[tuple[int, str]]:
    """Active users, for owner filters and the "assign" action."""
    from core.models import User

    users = ctx.dbsession.execute(select(User.id, User.display_name, User.username).where(User.active.is_(True))
                                  .order_by(User.username).limit(500))
    return [(id_, display_name or username) for id_, display_name, username in users]


def assign_action(apply: Callable[[Any, list[Any], Any], int], label: Any = None) -> BulkAction:
    """转移 / assign: a new owner for the records, chosen among active users."""
    return BulkAction("assign", label or _("Assign"), apply, action="write", field="owner_id",
                      field_label=_("New owner"), choices=active_users)


def set_field_action(field: str, label: Any, choices: Any, apply: Callable[[Any, list[Any], Any], int]) -> BulkAction:
    """Set one field of the records to a value chosen among ``choices``."""
    return BulkAction(f"set_{field}", label, apply, action="write", field=field, field_label=label, choices=choices)


def delete_action(apply: Callable[[Any, list[Any], Any], int]) -> BulkAction:
    return BulkAction("delete", _("Delete"), apply, action="delete", danger=True)


class _GetOnly:
    """Just enough of a request for ``state_from_request``: its ``GET``."""

    def __init__(self, get: MultiDict) -> None:
        self.GET = get


def _parse_qsl(raw: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    try:
        return parse_qsl(raw, keep_blank_values=True, max_num_fields=200)
    except ValueError:
        return []


def includeme(config: Configurator) -> None:
    config.add_directive("add_list_page", add_list_page)
