"""The calendar's pages: the week, month and day views (FullCalendar, vendored, fed as JSON and
moved by drag and drop), the phone-first agenda, the team view of a manager's people, an item's
page and its form, and the small POSTs (done, answer, delete, move).

Times on every page are the reader's (``User.timezone``). FullCalendar runs in UTC mode and is
given the reader's wall times as naive ISO text, so it needs no time-zone plugin and what it
shows is exactly what the server computed; a drop sends wall times back the same way.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import and_, or_, select

from core.access.exceptions import RecordNotFound
from core.access.scopes import scope_condition
from core.exceptions import KehuError
from core.i18n import _
from core.links import record_link, record_links
from core.models import User
from core.web.forms import flash_done, save_form

from . import TEMPLATES, services
from .forms import ERRORS, KIND_LABELS, MODE_CHOICES, TYPE_LABELS, item_form
from .ical_views import repeat_text
from .models import CalendarItem
from .occurrences import COLOURS, Occurrence, get_item, occurrence_at, occurrences, single
from .team import team_people
from .times import day_bounds, to_utc, wall

DEFAULT_ZONE = "Asia/Shanghai"
#: Days the agenda shows per page (a phone scrolls them; "later" moves on).
AGENDA_DAYS = 14
VIEWS = {"month": "dayGridMonth", "week": "timeGridWeek", "day": "timeGridDay", "list": "listWeek"}


def include(config: Configurator) -> None:
    config.add_static_view("static/calendar", "addons.calendar:static", cache_max_age=3600)
    routes = [
        ("calendar.home", "/calendar", calendar_page, "calendar.item:read", "page.jinja2", "GET"),
        ("calendar.events", "/calendar/events.json", events_json, "calendar.item:read", "json", "GET"),
        ("calendar.agenda", "/calendar/agenda", agenda_page, "calendar.item:read", "agenda.jinja2", "GET"),
        ("calendar.team", "/calendar/team", team_page, "calendar.team:read", "team.jinja2", "GET"),
        ("calendar.new", "/calendar/items/new", item_new, "calendar.item:create", "form.jinja2", None),
        ("calendar.detail", "/calendar/items/{id:\\d+}", item_detail, "calendar.item:read", "detail.jinja2", "GET"),
        ("calendar.edit", "/calendar/items/{id:\\d+}/edit", item_edit, "calendar.item:write", "form.jinja2", None),
        ("calendar.delete", "/calendar/items/{id:\\d+}/delete", item_delete, "calendar.item:delete", None, "POST"),
        ("calendar.done", "/calendar/items/{id:\\d+}/done", item_done, "calendar.item:write", None, "POST"),
        ("calendar.respond", "/calendar/items/{id:\\d+}/respond", item_respond, "calendar.item:read", None, "POST"),
        ("calendar.move", "/calendar/items/{id:\\d+}/move", item_move, "calendar.item:write", "json", "POST"),
    ]
    for name, pattern, view, permission, renderer, method in routes:
        config.add_route(name, pattern)
        options: dict[str, Any] = {"route_name": name, "permission": permission}
        if renderer:
            options["renderer"] = renderer if renderer == "json" else TEMPLATES + renderer
        if method:
            options["request_method"] = method
        config.add_view(view, **options)


# ---------------------------------------------------------------- helpers


def reader_zone(request: Request) -> zoneinfo.ZoneInfo:
    user = request.ctx.user
    try:
        return zoneinfo.ZoneInfo(getattr(user, "timezone", None) or DEFAULT_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_ZONE)


def today(request: Request) -> dt.date:
    return wall(request.ctx.now, reader_zone(request)).date()


def _date_param(request: Request, name: str) -> dt.date | None:
    text = request.GET.get(name, "")
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise HTTPBadRequest() from None


def _wall_param(text: str) -> dt.datetime:
    """FullCalendar's times: ISO text, read as the reader's wall time (the calendar runs in UTC
    mode and only ever shows wall times)."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPBadRequest() from None
    return value.replace(tzinfo=None)


def _window(day_first: dt.date, day_last: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    return day_bounds(day_first, tz)[0], day_bounds(day_last, tz)[1]


def item_url(request: Request, occurrence: Occurrence) -> str:
    query = {"key": occurrence.key} if occurrence.key else {}
    return request.route_path("calendar.detail", id=occurrence.item.id, _query=query)


def _person_param(request: Request) -> int | None:
    """``?user=`` shows a colleague's calendar (within the reader's scope, as any read)."""
    text = request.GET.get("user", "")
    return int(text) if text.isdigit() else None


# ---------------------------------------------------------------- week, month, day


def calendar_page(request: Request) -> dict[str, Any]:
    """The calendar; FullCalendar fetches ``events.json`` for the range it shows."""
    view = request.GET.get("view", "week")
    person = _person_param(request)
    query = {"user": person} if person else {}
    return {
        "page_title": request.localizer.translate(_("Calendar")),
        "initial_view": VIEWS.get(view, VIEWS["week"]),
        "initial_date": (_date_param(request, "date") or today(request)).isoformat(),
        "now": wall(request.ctx.now, reader_zone(request)).isoformat(timespec="seconds"),
        "events_url": request.route_path("calendar.events", _query=query),
        "new_url": request.route_path("calendar.new"),
        "person": _person_name(request, person),
        "may_create": request.has_permission("calendar.item:create"),
        "colours": COLOURS, "type_labels": TYPE_LABELS,
    }


def events_json(request: Request) -> list[dict[str, Any]]:
    """The occurrences FullCalendar asks for (``start`` / ``end`` of its range), in the reader's
    wall time."""
    tz = reader_zone(request)
    start, end = request.GET.get("start"), request.GET.get("end")
    if not start or not end:
        raise HTTPBadRequest()
    after, before = to_utc(_wall_param(start), tz), to_utc(_wall_param(end), tz)
    person = _person_param(request)
    me = request.ctx.user.id
    try:
        found = occurrences(request.ctx, after, before, tz, owners=[person or me])
    except KehuError:
        raise HTTPBadRequest() from None
    may_write = writable(request, [o.item for o in found])
    return [_event(request, occurrence, tz, occurrence.item.id in may_write) for occurrence in found]


def _event(request: Request, occurrence: Occurrence, tz: zoneinfo.ZoneInfo, editable: bool) -> dict[str, Any]:
    item = occurrence.item
    if item.all_day:
        start, end = occurrence.start_date.isoformat(), (occurrence.end_date + dt.timedelta(days=1)).isoformat()  # type: ignore[union-attr,operator]
    else:
        start = occurrence.local_start(tz).isoformat(timespec="minutes")
        local_end = occurrence.local_end(tz)
        end = local_end.isoformat(timespec="minutes") if local_end is not None else None
    classes = [f"kehu-type-{item.type}", f"kehu-kind-{item.kind}"]
    if item.done_at is not None:
        classes.append("is-done")
    return {
        "id": occurrence.ref, "title": item.title, "start": start, "end": end, "allDay": item.all_day,
        "url": item_url(request, occurrence), "color": COLOURS.get(item.type, COLOURS["other"]),
        "classNames": classes, "editable": editable,
        "durationEditable": editable and item.kind == "event",
        "extendedProps": {"moveUrl": request.route_path("calendar.move", id=item.id), "key": occurrence.key,
                          "series": bool(item.rrule), "kind": item.kind},
    }


def writable(request: Request, items: list[Any]) -> set[int]:
    """Which items the reader may move (their write scope, not someone's private item)."""
    ctx = request.ctx
    if not items or not request.has_permission("calendar.item:write"):
        return set()
    ids = [item.id for item in items]
    return set(ctx.dbsession.scalars(select(CalendarItem.id).where(
        CalendarItem.id.in_(ids), and_(scope_condition(ctx, CalendarItem, "write"),
                                       or_(CalendarItem.private.is_(False), CalendarItem.owner_id == ctx.user.id)))))


def item_move(request: Request) -> dict[str, Any]:
    """A drop or a resize in the calendar: the occurrence (``key``) moves alone; the answer says
    whether it took, with the reason when not, and FullCalendar puts a refused event back."""
    tz = reader_zone(request)
    values = request.json_body if request.content_type == "application/json" else request.POST
    item_id, key = int(request.matchdict["id"]), values.get("key") or None
    try:
        item = get_item(request.ctx, item_id, "write")
        item_tz = zoneinfo.ZoneInfo(item.tzid)
        start, end = _wall_param(str(values.get("start", ""))), values.get("end")
        if values.get("allDay") in (True, "true", "1"):
            last = (_wall_param(str(end)).date() - dt.timedelta(days=1)) if end else start.date()
            services.move_item(request.ctx, item_id, key, start_date=start.date(), end_date=max(last, start.date()))
        else:
            local_end = _wall_param(str(end)) if end else None
            if local_end is None and item.kind == "event":
                local_end = start + dt.timedelta(hours=1)
            services.move_item(request.ctx, item_id, key, start=wall(to_utc(start, tz), item_tz),
                               end=wall(to_utc(local_end, tz), item_tz) if local_end is not None else None)
    except RecordNotFound:
        request.response.status = 404
        return {"ok": False, "message": request.localizer.translate(_("Not found."))}
    except KehuError as exc:
        request.response.status = 422
        return {"ok": False, "message": request.localizer.translate(exc.translation_string)}
    return {"ok": True}


# ---------------------------------------------------------------- agenda


def agenda_page(request: Request) -> dict[str, Any]:
    """Two weeks from a day (today), grouped by day: the phone's calendar."""
    tz = reader_zone(request)
    first = _date_param(request, "from") or today(request)
    last = first + dt.timedelta(days=AGENDA_DAYS - 1)
    person = _person_param(request)
    found = occurrences(request.ctx, *_window(first, last, tz), tz, owners=[person or request.ctx.user.id])
    days: dict[dt.date, list[Occurrence]] = {}
    for occurrence in found:
        shown_from = max(occurrence.local_start(tz).date(), first)
        days.setdefault(shown_from, []).append(occurrence)
    links = record_links(request.ctx, [(o.item.related_table, o.item.related_id) for o in found
                                       if o.item.related_table])
    query = {"user": person} if person else {}
    return {
        "page_title": request.localizer.translate(_("Agenda")), "days": sorted(days.items()), "tz": tz,
        "first": first, "last": last, "today": today(request), "links": links,
        "earlier": request.route_path("calendar.agenda", _query={**query, "from": (first - dt.timedelta(
            days=AGENDA_DAYS)).isoformat()}),
        "later": request.route_path("calendar.agenda", _query={**query, "from": (last + dt.timedelta(
            days=1)).isoformat()}),
        "this_week": request.route_path("calendar.agenda", _query=query),
        "person": _person_name(request, person), "item_url": lambda o: item_url(request, o),
        "colours": COLOURS, "type_labels": TYPE_LABELS,
        "may_write": writable(request, [o.item for o in found]),
    }


def _person_name(request: Request, person: int | None) -> str | None:
    if not person or person == request.ctx.user.id:
        return None
    found = request.dbsession.execute(select(User.display_name, User.username).where(User.id == person)).first()
    return (found[0] or found[1]) if found else None


# ---------------------------------------------------------------- team


def team_page(request: Request) -> dict[str, Any]:
    """A manager's people side by side for a week (Monday first): one row each, a column a day."""
    tz = reader_zone(request)
    day = _date_param(request, "date") or today(request)
    monday = day - dt.timedelta(days=day.weekday())
    week = [monday + dt.timedelta(days=n) for n in range(7)]
    people = team_people(request.ctx)
    found = occurrences(request.ctx, *_window(week[0], week[-1], tz), tz, owners=[p.id for p in people]) \
        if people else []
    grid: dict[tuple[int, dt.date], list[Occurrence]] = {}
    for occurrence in found:
        owners = {occurrence.item.owner_id} | {a.user_id for a in occurrence.item.attendees
                                               if a.response != "declined"}
        first = occurrence.local_start(tz).date()
        last_end = occurrence.local_end(tz)
        last = (last_end - dt.timedelta(microseconds=1)).date() if last_end and last_end > occurrence.local_start(
            tz) else first
        for person in people:
            if person.id in owners:
                for shown in week:
                    if first <= shown <= last:
                        grid.setdefault((person.id, shown), []).append(occurrence)
    return {
        "page_title": request.localizer.translate(_("Team calendar")), "people": people, "week": week,
        "grid": grid, "tz": tz, "today": today(request), "item_url": lambda o: item_url(request, o),
        "earlier": request.route_path("calendar.team", _query={"date": (monday - dt.timedelta(days=7)).isoformat()}),
        "later": request.route_path("calendar.team", _query={"date": (monday + dt.timedelta(days=7)).isoformat()}),
        "this_week": request.route_path("calendar.team"), "colours": COLOURS,
    }


# ---------------------------------------------------------------- an item


def _occurrence(request: Request, item: Any) -> Occurrence:
    key = request.params.get("key") or None
    try:
        return occurrence_at(item, key) if key else single(item)
    except KehuError:
        raise RecordNotFound() from None


def item_detail(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    item = get_item(ctx, int(request.matchdict["id"]))
    occurrence = _occurrence(request, item)
    link = record_link(ctx, item.related_table, item.related_id) if item.related_table else None
    me = ctx.user.id
    mine = next((a for a in item.attendees if a.user_id == me), None)
    may_write = bool(writable(request, [item]))
    return {
        "page_title": item.title, "item": item, "occurrence": occurrence, "tz": reader_zone(request),
        "link": link, "mine": mine, "may_write": may_write,
        "may_delete": may_write and request.has_permission("calendar.item:delete"),
        "repeat": repeat_text(request, item.rrule), "series": item.series_id,
        "type_label": TYPE_LABELS.get(item.type, item.type), "kind_label": KIND_LABELS.get(item.kind, item.kind),
        "colours": COLOURS, "modes": MODE_CHOICES, "key": occurrence.key,
    }


def item_new(request: Request) -> Any:
    ctx = request.ctx
    tz = reader_zone(request)
    form = item_form(request)
    related = request.params.get("related", "")
    if request.method == "GET":
        form.show(_initial(request, tz), tz, related)
    saved = save_form(request, form, lambda: services.create_item(ctx, form.data_in(tz, tz.key)), ERRORS)
    if saved is not None:
        flash_done(request, _("Saved to the calendar."))
        return HTTPSeeOther(request.route_path("calendar.detail", id=saved.id))
    return {"form": form, "item": None, "key": None, "page_title": request.localizer.translate(_("New item")),
            "link": _related_link(request, form.related.data)}


def _initial(request: Request, tz: zoneinfo.ZoneInfo) -> services.ItemData:
    """A new item as the calendar asked for it: a slot clicked (``start``, ``end``, ``all_day``),
    a task, a day; or the next full hour today."""
    params = request.GET
    kind = "task" if params.get("kind") == "task" else "event"
    start_text, end_text = params.get("start", ""), params.get("end", "")
    try:
        start = dt.datetime.fromisoformat(start_text).replace(tzinfo=None) if start_text else None
        end = dt.datetime.fromisoformat(end_text).replace(tzinfo=None) if end_text else None
    except ValueError:
        start = end = None
    if params.get("all_day") in ("1", "true") and start is not None:
        last = (end.date() - dt.timedelta(days=1)) if end is not None and end.date() > start.date() else start.date()
        return services.ItemData(title="", kind=kind, all_day=True, tzid=tz.key, start_date=start.date(),
                                 end_date=last)
    if start is None:
        start = wall(request.ctx.now, tz).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    if end is None and kind == "event":
        end = start + dt.timedelta(hours=1)
    return services.ItemData(title="", kind=kind, tzid=tz.key, start=start, end=end if kind == "event" else None,
                             reminders=(15,))


def _related_link(request: Request, related: str | None) -> Any:
    table, _sep, record = (related or "").partition(":")
    return record_link(request.ctx, table, int(record)) if table and record.isdigit() else None


def item_edit(request: Request) -> Any:
    ctx = request.ctx
    tz = reader_zone(request)
    item = get_item(ctx, int(request.matchdict["id"]), "write")
    occurrence = _occurrence(request, item)
    key = occurrence.key
    form = item_form(request)
    related = f"{item.related_table}:{item.related_id}" if item.related_table else ""
    if request.method == "GET":
        form.show(services.data_of(item, occurrence), tz, related)
        form.mode.data = "one" if key else "all"
    mode = form.mode.data if key else "all"

    def update() -> Any:
        data = form.data_in(tz, item.tzid)
        if key and mode == "one":
            data = services.ItemData(**{**data.__dict__, "rrule": None})
        return services.update_item(ctx, item.id, data, key=key, mode=mode or "all")

    saved = save_form(request, form, update, ERRORS)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("calendar.detail", id=saved.id))
    return {"form": form, "item": item, "key": key, "page_title": item.title, "link": _related_link(request, related)}


def item_delete(request: Request) -> HTTPSeeOther:
    key, mode = request.POST.get("key") or None, request.POST.get("mode") or "all"
    try:
        services.delete_item(request.ctx, int(request.matchdict["id"]), key=key, mode=mode)
    except RecordNotFound:
        raise
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
        return HTTPSeeOther(request.route_path("calendar.detail", id=request.matchdict["id"]))
    flash_done(request, _("Deleted."))
    return HTTPSeeOther(_back(request, request.route_path("calendar.home")))


def item_done(request: Request) -> HTTPSeeOther:
    done = request.POST.get("done", "1") == "1"
    try:
        services.set_done(request.ctx, int(request.matchdict["id"]), done)
        flash_done(request, _("Marked done.") if done else _("Marked not done."))
    except RecordNotFound:
        raise
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
    return HTTPSeeOther(_back(request, request.route_path("calendar.detail", id=request.matchdict["id"])))


def item_respond(request: Request) -> HTTPSeeOther:
    try:
        services.respond(request.ctx, int(request.matchdict["id"]), request.POST.get("response", ""))
        flash_done(request, _("Your answer is saved."))
    except RecordNotFound:
        raise
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
    return HTTPSeeOther(_back(request, request.route_path("calendar.detail", id=request.matchdict["id"])))


def _back(request: Request, default: str) -> str:
    """Where a small POST returns: the page it came from (a path of ours), else ``default``."""
    back = request.POST.get("back", "")
    return back if back.startswith("/") and not back.startswith("//") else default

