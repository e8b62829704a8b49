"""The bell in the top bar, the notifications page and the notification settings.

- ``/notifications/bell``: the bell with the unread count, a fragment the layout loads with
  htmx and refreshes every minute. A visitor whose session ended gets 204: htmx keeps the bell
  as it was instead of swapping a sign-in page into the top bar.
- ``/notifications``: newest first, 30 a page by keyset (``before=<id>``), all or unread only;
  mark one read (opening one with a link marks it read too), mark all read. POSTs with CSRF.
- ``/preferences/notifications``: kinds × channels, a checkbox each.

Every page is a signed-in user's own: no permission beyond signing in, and ids of other users'
notifications are ignored by the services.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from core.i18n import _
from core.models import User
from core.notifications.kinds import CHANNELS, EMAIL, notification_kinds
from core.notifications.mail import mail_configured
from core.notifications.services import (
    PAGE_SIZE,
    email_available,
    list_notifications,
    mark_all_read,
    mark_read,
    notification_settings,
    set_preferences,
    unread_count,
)
from core.web.views.auth import safe_next

#: The bell shows at most this number, then "99+".
BELL_MAX = 99


def _signed_in(request: Request) -> User:
    if request.user is None:
        raise HTTPForbidden()  # the forbidden view sends anonymous visitors to /login?next=…
    return request.user


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def bell(request: Request) -> dict[str, Any] | Response:
    if request.user is None:
        return Response(status=204)
    return {"count": unread_count(request.ctx), "bell_max": BELL_MAX}


def notifications_page(request: Request) -> dict[str, Any]:
    _signed_in(request)
    unread_only = request.GET.get("show") == "unread"
    before = _id(request.GET.get("before"))
    rows = list_notifications(request.ctx, before, unread_only=unread_only, limit=PAGE_SIZE + 1)
    filters = [("show", "unread")] if unread_only else []
    older_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        older_url = request.route_path("core.notifications", _query=[*filters, ("before", rows[-1].id)])
    kinds = notification_kinds(request.ctx)
    return {
        "notifications": rows,
        "kind_titles": {key: kind.title for key, kind in kinds.items()},
        "unread_only": unread_only,
        "unread": unread_count(request.ctx),
        "older_url": older_url,
        "newest_url": request.route_path("core.notifications", _query=filters) if before is not None else None,
        "page_title": _("Notifications"),
    }


def read_one(request: Request) -> HTTPSeeOther:
    """Mark the notifications named by ``id`` read, then go to ``next`` (the notification's
    own page when it was opened, else back to the list)."""
    _signed_in(request)
    ids = [i for i in (_id(value) for value in request.POST.getall("id")) if i is not None]
    mark_read(request.ctx, ids)
    return HTTPSeeOther(safe_next(request, request.POST.get("next") or request.route_path("core.notifications")))


def read_all(request: Request) -> HTTPSeeOther:
    _signed_in(request)
    if mark_all_read(request.ctx):
        request.session.flash(request.localizer.translate(_("All notifications are marked as read.")), "success")
    return HTTPSeeOther(safe_next(request, request.POST.get("next") or request.route_path("core.notifications")))


def settings_page(request: Request) -> dict[str, Any] | HTTPSeeOther:
    _signed_in(request)
    channels = [channel for channel in CHANNELS if channel != EMAIL or email_available(request.ctx)]
    if request.method == "POST":
        ticked = set(request.POST.getall("on"))
        # A channel the page could not offer (email without an address) keeps its choices.
        choices = {(kind.key, channel): f"{kind.key}:{channel}" in ticked
                   for kind, _enabled in notification_settings(request.ctx) for channel in channels}
        set_preferences(request.ctx, choices)
        request.session.flash(request.localizer.translate(_("Notification settings saved.")), "success")
        return HTTPSeeOther(request.route_path("core.notifications.settings"))
    return {
        "rows": notification_settings(request.ctx),
        "channels": CHANNELS,
        "offered": channels,
        "mail_server": mail_configured(request.registry.settings),
        "page_title": _("Notification settings"),
    }


def includeme(config: Configurator) -> None:
    config.add_route("core.notifications", "/notifications")
    config.add_route("core.notifications.bell", "/notifications/bell")
    config.add_route("core.notifications.read", "/notifications/read")
    config.add_route("core.notifications.read_all", "/notifications/read-all")
    config.add_route("core.notifications.settings", "/preferences/notifications")
    config.add_view(bell, route_name="core.notifications.bell", renderer="core/notifications/bell.jinja2",
                    request_method="GET")
    config.add_view(notifications_page, route_name="core.notifications",
                    renderer="core/notifications/list.jinja2", request_method="GET")
    config.add_view(read_one, route_name="core.notifications.read", request_method="POST")
    config.add_view(read_all, route_name="core.notifications.read_all", request_method="POST")
    config.add_view(settings_page, route_name="core.notifications.settings",
                    renderer="core/notifications/settings.jinja2", request_method=("GET", "POST"))
