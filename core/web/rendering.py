"""Jinja2 templates, their filters, and static files (vendored CSS/JS, no CDN)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from babel.dates import format_date, format_datetime
from pyramid.config import Configurator
from pyramid.events import BeforeRender
from pyramid.i18n import TranslationString
from pyramid.request import Request

from core.access.masking import shown
from core.audit.services import ACTIONS as AUDIT_ACTIONS
from core.i18n import LOCALES, _
from core.web.menus import menu_for

DEFAULT_TIMEZONE = "Asia/Shanghai"


def user_timezone(request: Request) -> zoneinfo.ZoneInfo:
    user = request.user
    name = user.timezone if user is not None else DEFAULT_TIMEZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


def _format_datetime(request: Request, value: dt.datetime | None, format: str = "yyyy-MM-dd HH:mm") -> str:
    """UTC from the database, shown in the reader's time zone (dates as 2026-11-24)."""
    if value is None:
        return ""
    return format_datetime(value, format, tzinfo=user_timezone(request), locale=request.locale_name)


def _format_date(request: Request, value: dt.date | None) -> str:
    if value is None:
        return ""
    return format_date(value, "yyyy-MM-dd", locale=request.locale_name)


def format_cell(request: Request, value: Any) -> str:
    """A list cell as text: dates in the reader's time zone, yes/no translated, "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return request.localizer.translate(_("Yes") if value else _("No"))
    if isinstance(value, dt.datetime):
        return _format_datetime(request, value)
    if isinstance(value, dt.date):
        return _format_date(request, value)
    if isinstance(value, TranslationString):
        return request.localizer.translate(value)
    return str(value)


def add_renderer_globals(event: BeforeRender) -> None:
    """What every page's layout needs, computed lazily only when a request is rendering."""
    request: Request | None = event.get("request")
    if request is None:
        return
    event.setdefault("locales", LOCALES)
    event.setdefault("action_titles", AUDIT_ACTIONS)
    event["shown"] = lambda record, field: shown(request.ctx, record, field)
    event["menu"] = (lambda: menu_for(request)) if request.user is not None else (list)
    event["fmt_datetime"] = lambda value, *a: _format_datetime(request, value, *a)
    event["fmt_date"] = lambda value: _format_date(request, value)
    event["cell"] = lambda value: format_cell(request, value)


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    settings.setdefault("jinja2.i18n.domain", "kehu")
    settings.setdefault("jinja2.trim_blocks", "true")
    settings.setdefault("jinja2.lstrip_blocks", "true")
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.undefined", "strict")
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    config.add_jinja2_search_path("core.web:templates", name=".jinja2")
    config.add_static_view("static/core", "core.web:static", cache_max_age=3600)
    config.add_subscriber(add_renderer_globals, BeforeRender)
