"""Jinja2 templates, their filters, and static files (vendored CSS/JS, no CDN)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from babel.dates import format_datetime
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


#: The numeric patterns pages use, as strftime: the same text in every locale, and ~100x cheaper
#: than babel's formatter, which parses the locale on every call (a list page has 1,000s of cells).
NUMERIC_PATTERNS = {"yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M", "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
                    "yyyy-MM-dd": "%Y-%m-%d", "HH:mm:ss": "%H:%M:%S", "HH:mm": "%H:%M"}


def _request_timezone(request: Request) -> zoneinfo.ZoneInfo:
    """The reader's time zone, looked up once per request."""
    tz = request.__dict__.get("_kehu_timezone")
    if tz is None:
        tz = request.__dict__["_kehu_timezone"] = user_timezone(request)
    return tz  # type: ignore[no-any-return]


def _format_datetime(request: Request, value: dt.datetime | None, format: str = "yyyy-MM-dd HH:mm") -> str:
    """UTC from the database, shown in the reader's time zone (dates as 2026-11-24)."""
    if value is None:
        return ""
    tz = _request_timezone(request)
    numeric = NUMERIC_PATTERNS.get(format)
    if numeric is not None:
        return value.astimezone(tz).strftime(numeric)
    return format_datetime(value, format, tzinfo=tz, locale=request.locale_name)


def _format_date(request: Request, value: dt.date | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d")


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
