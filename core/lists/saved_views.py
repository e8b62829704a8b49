"""A user's views (场景) and settings of a list: save, delete, make default, hide, reorder,
choose columns. Each user changes only their own; a list page's views never reach another user.

These are personal preferences, like the notification choices: they are not audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.exceptions import KehuError
from core.i18n import _
from core.lists.declaration import ListPage
from core.lists.models import ListSetting, SavedView
from core.lists.query import ListState, condition_problem, list_setting, saved_views

MAX_VIEWS = 30
MAX_NAME = 100


class ViewNameRequired(KehuError):
    message = _("Give the view a name.")


class ViewNameTaken(KehuError):
    message = _("You already have a view with this name.")


class TooManyViews(KehuError):
    message = _("You have ${max} views of this list: delete one first.")


class ViewNotFound(KehuError):
    message = _("This view does not exist (any more).")


class InvalidConditions(KehuError):
    message = _("A filter of this view is not valid: correct it first.")


def save_view(ctx: Any, page: ListPage, name: str, state: ListState) -> SavedView:
    """Keep the state's conditions, search and sort under ``name`` (a new view, or the one of
    that name replaced)."""
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise ViewNameRequired()
    if state.errors or any(condition_problem(page, c) for c in state.conditions):
        raise InvalidConditions()
    views = saved_views(ctx.dbsession, ctx.user.id, page.key)
    if any(view.name == name for view in views):
        raise ViewNameTaken()
    if len(views) >= MAX_VIEWS:
        raise TooManyViews(max=MAX_VIEWS)
    position = max((v.position for v in views), default=0) + 1
    view = SavedView(user_id=ctx.user.id, list_key=page.key, name=name, position=position,
                     conditions=[c.as_list() for c in state.conditions], q=state.q, sort=state.sort)
    ctx.dbsession.add(view)
    ctx.dbsession.flush()
    return view


def delete_view(ctx: Any, page: ListPage, view_id: int) -> None:
    view = _own_view(ctx, page, view_id)
    setting = list_setting(ctx.dbsession, ctx.user.id, page.key)
    key = f"saved:{view.id}"
    if setting is not None:
        if setting.default_view == key:
            setting.default_view = None
        setting.view_order = [k for k in setting.view_order if k != key]
    ctx.dbsession.delete(view)
    ctx.dbsession.flush()


def set_default_view(ctx: Any, page: ListPage, key: str) -> None:
    _check_view_key(ctx, page, key)
    _setting(ctx, page).default_view = None if key == "system:all" else key


def set_view_hidden(ctx: Any, page: ListPage, key: str, hidden: bool) -> None:
    """Hide a view from the tabs (its data stays; it can be shown again)."""
    _check_view_key(ctx, page, key)
    setting = _setting(ctx, page)
    keys = [k for k in setting.hidden_views if k != key]
    setting.hidden_views = [*keys, key] if hidden else keys
    if hidden and setting.default_view == key:
        setting.default_view = None


def move_view(ctx: Any, page: ListPage, key: str, step: int) -> None:
    """Move a view one place left (-1) or right (+1) among the tabs."""
    order = ordered_view_keys(page, _setting(ctx, page), saved_views(ctx.dbsession, ctx.user.id, page.key))
    if key not in order:
        raise ViewNotFound()
    index = order.index(key)
    target = min(max(index + step, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    _setting(ctx, page).view_order = order


def set_columns(ctx: Any, page: ListPage, fields: list[str] | None) -> None:
    """The columns to show, in declared order; None (or nothing known) restores the defaults."""
    known = [c.field for c in page.columns]
    chosen = [f for f in known if fields and f in fields]
    _setting(ctx, page).columns = chosen or None


def ordered_view_keys(page: ListPage, setting: ListSetting | None, saved: list[SavedView]) -> list[str]:
    """Every view's key in the user's order: ordered ones first, then the rest as declared."""
    keys = [f"system:{v.key}" for v in page.views] + [f"saved:{v.id}" for v in saved]
    order = [k for k in (setting.view_order if setting else []) if k in keys]
    return order + [k for k in keys if k not in order]


def _own_view(ctx: Any, page: ListPage, view_id: int) -> SavedView:
    view = ctx.dbsession.scalar(select(SavedView).where(SavedView.id == view_id, SavedView.user_id == ctx.user.id,
                                                        SavedView.list_key == page.key))
    if view is None:
        raise ViewNotFound()
    return view


def _check_view_key(ctx: Any, page: ListPage, key: str) -> None:
    if key.startswith("system:") and key.removeprefix("system:") in {v.key for v in page.views}:
        return
    raw = key.removeprefix("saved:")
    if key.startswith("saved:") and raw.isdigit() and len(raw) <= 10:
        _own_view(ctx, page, int(raw))
        return
    raise ViewNotFound()


def _setting(ctx: Any, page: ListPage) -> ListSetting:
    setting = list_setting(ctx.dbsession, ctx.user.id, page.key)
    if setting is None:
        setting = ListSetting(user_id=ctx.user.id, list_key=page.key, view_order=[], hidden_views=[])
        ctx.dbsession.add(setting)
        ctx.dbsession.flush()
    return setting

