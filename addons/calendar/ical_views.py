"""iCalendar pages: an item as an .ics file, the secret subscription feed and its page, and the
import of an .ics file with a preview.

The feed is read by calendar apps that cannot sign in: its view has no permission and answers
an unknown, revoked or disabled user's token with the same 404 as any missing page. It is a GET,
so the CSRF check (unsafe methods only) does not concern it.

Between the import's preview and its confirmation the uploaded file is kept with the core's
file storage (``core.files``, in the database, its uploader's alone, dropped after a day), and
the confirmation names it by id: any app server can finish the import, nothing rides in the
form (a 2 MB file would be posted back twice) and nothing in the session cookie. The file is
read again the same way, so the import writes exactly what the preview showed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import select

from core.access.exceptions import RecordNotFound
from core.audit.services import write_audit
from core.exceptions import KehuError
from core.files import file_response, own_file, store_file
from core.i18n import _, translate
from core.web.forms import flash_done

from . import TEMPLATES, feeds, ical_import, recurrence
from .ical import MAX_BYTES, MAX_ITEMS, export_calendar
from .models import CalendarItem
from .occurrences import get_item, visible_condition

ICS = "text/calendar; charset=utf-8"
#: How often a subscribed app is asked to look again.
REFRESH = dt.timedelta(hours=1)
#: The uploaded file waits this long for its confirmation.
UPLOAD_KEEP = dt.timedelta(days=1)
FREQUENCIES = {"DAILY": _("Daily"), "WEEKLY": _("Weekly"), "MONTHLY": _("Monthly"), "YEARLY": _("Yearly")}


def include(config: Configurator) -> None:
    """Routes and views of this module."""
    config.add_route("calendar.item_ics", r"/calendar/items/{id:\d+}.ics")
    config.add_route("calendar.subscription", "/calendar/subscription")
    config.add_route("calendar.feed", r"/calendar/feed/{token:[A-Za-z0-9_-]{20,100}}.ics")
    config.add_route("calendar.import", "/calendar/import")
    config.add_route("calendar.import_confirm", "/calendar/import/confirm")
    config.add_view(item_ics, route_name="calendar.item_ics", permission="calendar.item:read", request_method="GET")
    config.add_view(subscription, route_name="calendar.subscription", permission="calendar.item:read",
                    renderer=TEMPLATES + "ical_subscription.jinja2", request_method=("GET", "POST"))
    config.add_view(feed, route_name="calendar.feed", request_method="GET")  # no session: the token decides
    config.add_view(import_upload, route_name="calendar.import", permission="calendar.item:create",
                    renderer=TEMPLATES + "ical_import.jinja2", request_method=("GET", "POST"))
    config.add_view(import_confirm, route_name="calendar.import_confirm", permission="calendar.item:create",
                    request_method="POST")


def _item_url(request: Request) -> Any:
    return lambda item: request.route_url("calendar.detail", id=item.id)


# ---------------------------------------------------------------- export


def item_ics(request: Request) -> Response:
    """One item as an .ics file; a series with its changed occurrences the reader may see."""
    ctx = request.ctx
    item = get_item(ctx, int(request.matchdict["id"]))
    items = [item]
    if item.rrule:
        items += ctx.dbsession.scalars(select(CalendarItem).where(
            CalendarItem.series_id == item.id, visible_condition(ctx)).order_by(CalendarItem.recurrence_key)).all()
    body = export_calendar(items, now=ctx.now, url_of=_item_url(request))
    return file_response(body, ICS, f"{item.title}.ics")


# ---------------------------------------------------------------- the subscription


def subscription(request: Request) -> dict[str, Any] | HTTPSeeOther:
    """The user's feed: make it (its URL is shown this once), make a new one, or turn it off."""
    ctx = request.ctx
    url = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            if feeds.revoke(ctx):
                flash_done(request, _("The subscription link is off: apps using it no longer get your calendar."))
            return HTTPSeeOther(request.route_path("calendar.subscription"))
        if action != "create":
            raise RecordNotFound()
        url = request.route_url("calendar.feed", token=feeds.make_token(ctx))
    found = feeds.feed_of(ctx)
    return {"feed": found, "url": url, "webcal": "webcal://" + url.split("://", 1)[1] if url else None,
            "page_title": _("Subscribe to my calendar")}


def feed(request: Request) -> Response:
    """The owner's calendar for an app that polls it (see ``feeds``)."""
    ctx = request.ctx
    owner = feeds.owner_of(ctx, request.matchdict["token"])
    if owner is None:
        raise RecordNotFound()
    as_owner = ctx.as_user(owner)
    name = translate(_("Kehu calendar · ${name}", mapping={"name": owner.display_name or owner.username}),
                     owner.locale)
    body = export_calendar(feeds.feed_items(as_owner), now=ctx.now, name=name, timezone=owner.timezone,
                           url_of=_item_url(request), refresh=REFRESH)
    response = Response(body=body, content_type="text/calendar", charset="utf-8")
    response.cache_control = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# ---------------------------------------------------------------- import


def import_upload(request: Request) -> Any:
    """Step 1, the upload; a readable file goes on to its preview (step 2)."""
    ctx = request.ctx
    error = None
    if request.method == "POST":
        upload = request.POST.get("file")
        if not hasattr(upload, "file") or not getattr(upload, "filename", ""):
            error = _("Choose an .ics file.")
        else:
            content = upload.file.read(MAX_BYTES + 1)
            try:
                found = ical_import.plan(ctx, content)
            except KehuError as exc:
                error = exc.translation_string
            else:
                stored = store_file(ctx, ctx.user.id, upload.filename, "text/calendar", content, "import",
                                    keep=UPLOAD_KEEP)
                return _preview(request, found, stored.id, stored.name)
        request.response.status = 400
    return {"error": error, "max_size": MAX_BYTES // (1024 * 1024), "max_items": MAX_ITEMS,
            "page_title": _("Import an .ics file")}


def import_confirm(request: Request) -> Response:
    """Step 3: create every importable row of the file, or none of them."""
    ctx = request.ctx
    try:
        stored = own_file(ctx, int(request.POST.get("file_id", "")), with_data=True)
    except ValueError:
        raise RecordNotFound() from None
    if stored.purpose != "import":
        raise RecordNotFound()
    found = ical_import.plan(ctx, stored.data)
    if not found.importable:
        request.session.flash(request.localizer.translate(_("Nothing in the file can be imported.")), "warning")
        return HTTPSeeOther(request.route_path("calendar.import"))
    try:
        with request.dbsession.begin_nested():
            created = ical_import.apply(ctx, found)
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
        response = _preview(request, found, stored.id, stored.name)
        response.status = 400
        return response
    write_audit(ctx, "import", model=CalendarItem.__tablename__,
                detail=f"{len(created)} items from {stored.name}")
    ctx.dbsession.delete(stored)
    flash_done(request, _("${count} items imported into your calendar.", mapping={"count": len(created)}))
    return HTTPSeeOther(request.route_path("calendar.home"))


def _preview(request: Request, found: ical_import.Plan, file_id: int, filename: str) -> Response:
    reader = request.ctx.user.timezone
    rows = [{"number": row.entry.number, "title": row.entry.title or "—",
             "kind": row.entry.data.kind if row.entry.data else None,
             "when": ical_import.when_text(row.entry.data, reader) if row.entry.data else "",
             "repeat": repeat_text(request, row.entry.data.rrule) if row.entry.data else "",
             "location": row.entry.data.location if row.entry.data else "",
             "problem": row.problem, "exception": row.series is not None and row.importable}
            for row in found.rows]
    return render_to_response(TEMPLATES + "ical_import_preview.jinja2", {
        "rows": rows, "count": len(found.importable), "skipped": len(found.rows) - len(found.importable),
        "file_id": file_id, "filename": filename, "page_title": _("Import an .ics file")}, request=request)


def repeat_text(request: Request, rule: str | None) -> str:
    """A rule as the preview shows it: "Weekly, every 2, until 2027-01-31"."""
    if not rule:
        return ""
    translate_ = request.localizer.translate
    repeat = recurrence.describe(rule)
    parts = [translate_(FREQUENCIES[repeat.freq]) if repeat.freq in FREQUENCIES else repeat.freq]  # type: ignore[union-attr]
    if repeat.interval != 1:  # type: ignore[union-attr]
        parts.append(translate_(_("every ${interval}", mapping={"interval": repeat.interval})))  # type: ignore[union-attr]
    if repeat.until is not None:  # type: ignore[union-attr]
        parts.append(translate_(_("until ${date}", mapping={"date": repeat.until.isoformat()})))  # type: ignore[union-attr]
    if repeat.count is not None:  # type: ignore[union-attr]
        parts.append(translate_(_("${count} times", mapping={"count": repeat.count})))  # type: ignore[union-attr]
    return ", ".join(parts)
