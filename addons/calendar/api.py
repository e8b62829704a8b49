"""The calendar's JSON API: ``/api/v1/events`` and ``/api/v1/tasks`` (core conventions,
docs/api.md), two resources over the one ``calendar_item`` table, each seeing its own ``kind``.

Routes (each resource; ``tasks`` in place of ``events``):

- ``GET /events`` — the items, keyset-paginated like every list (filters ``owner_id``,
  ``type``, ``series_id``, ``related_table``, ``related_id``; ``q`` in title and location);
  ``GET /events/{id}``; ``POST /events``; ``PATCH /events/{id}``; ``DELETE /events/{id}``.
- ``GET /events/occurrences?from=…&to=…`` — what a window shows: series expanded inside it.
- ``POST /events/respond`` ``{"id", "response"}`` — a participant accepts or declines.
- ``POST /tasks/{id}/done``, ``POST /tasks/{id}/reopen``.

Decisions:

- Reads go through ``visible_condition`` (the resource's ``read_scope``): a private item is its
  owner's and participants', an invitation opens an item beyond the reader's scope, a declined
  one closes it again; outside that, 404 as for a record that does not exist. Writes go through
  the services (permissions, private items, audit, reminders, invitations, the source addon
  told), so the API cannot do what the pages may not.
- The window is an action, not ``from``/``to`` on the list: its answer is occurrences (one item
  many times, each with its ``key``/``ref`` and its own times), ordered by time and bounded by
  the window (at most ``MAX_WINDOW_DAYS``), where the list is records under a keyset cursor —
  two shapes, and mixing them would make ``cursor`` and ``sort`` mean nothing half the time.
  As an action it is validated (unknown parameters refused) and documented in OpenAPI.
  ``from``/``to`` are ISO 8601 dates (days in the caller's ``User.timezone``; ``to`` is
  inclusive) or date-times with an offset (``to`` exclusive); a date-time without an offset is
  refused.
- A series is changed or deleted for one occurrence with query parameters on the standard
  routes: ``PATCH|DELETE /events/{id}?key=<occurrence key>&mode=one|following|all`` (default
  ``all``; ``mode`` other than ``all`` needs ``key``). The answer to a PATCH is the item that now
  holds the change: with ``mode=one`` the new single item (its ``series_id`` the series), with
  ``following`` the new series. The core hands ``update``/``delete`` the context, the record and
  the body only, so the query string is read from the current request (``_occurrence_target``).
- Answering an invitation is a collection action with the id in the body: an item action loads
  its record through the caller's write scope, which an invitee's item is outside.
- Times: responses give ``start``/``end`` in the reader's zone with its offset (all-day items
  ``start_date``/``end_date``, inclusive, the same days for everyone). Requests give ``start``/
  ``end`` with an offset, or without one as wall time in ``tzid``; ``tzid`` defaults to the
  caller's zone on create and stays the item's on PATCH (changing it alone keeps the instant).
  A task's ``start`` is its due time; it has no end and does not repeat.
- PATCH builds the whole item from ``services.data_of`` (the occurrence's, with ``key``) and
  replaces the fields sent, so ``services.check`` sees exactly what will be written.
- Extra fields (colour, times in the reader's zone, owner, participants, reminders, the related
  record's link) load for a whole page at once: a few queries and one ``kehu_record_links`` call
  per table, whatever the number of items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pyramid.config import Configurator
from pyramid.threadlocal import get_current_request
from sqlalchemy import ColumnElement, and_, select

from core.access.exceptions import RecordNotFound
from core.api.actions import ApiAction
from core.api.exceptions import BadParameter
from core.api.lists import MAX_ID, query_parameters
from core.api.resources import ApiResource
from core.context import Ctx
from core.exceptions import ValidationFailed
from core.i18n import _
from core.links import record_links
from core.models import User

from . import services
from .exceptions import KindInvalid, NotAParticipant, UnknownZone, WindowInvalid
from .models import Attendee, CalendarItem, Reminder
from .occurrences import COLOURS, MAX_WINDOW_DAYS, Occurrence, get_item, occurrence_at, occurrences, visible_condition
from .times import UTC, to_utc, wall, zone

DEFAULT_ZONE = "Asia/Shanghai"
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Minutes = Annotated[int, Field(ge=0, le=services.MAX_REMINDER_MINUTES)]
ItemType = Literal["visit", "call", "meeting", "memo", "followup", "other"]
TIME_FIELDS, DAY_FIELDS = ("start", "end"), ("start_date", "end_date")

# ---------------------------------------------------------------- responses


class Person(BaseModel):
    id: int
    name: str


class Participant(BaseModel):
    user_id: int
    name: str
    response: str = Field(description="pending, accepted or declined")


class Related(BaseModel):
    table: str
    id: int
    title: str = Field(description="As the reader may see it (masked where it must be)")
    url: str = Field(description="The record's page (a path)")


class ItemRead(BaseModel):
    id: int
    kind: str = Field(description="event or task")
    type: str = Field(description="visit, call, meeting, memo, followup or other")
    colour: str = Field(description="The type's colour, #rrggbb")
    title: str
    location: str | None
    description: str | None
    private: bool = Field(description="Seen only by its owner and participants")
    all_day: bool
    tzid: str = Field(description="The zone the item was entered in; a series repeats in its wall time")
    start: dt.datetime | None = Field(description="In the reader's time zone, with its offset; a task's due time. "
                                                  "Null for all-day items")
    end: dt.datetime | None = Field(description="In the reader's time zone; null for tasks and all-day items")
    start_date: dt.date | None = Field(description="All-day items: the first day")
    end_date: dt.date | None = Field(description="All-day items: the last day (inclusive)")
    rrule: str | None = Field(description="RFC 5545 RRULE of a series, in the item's wall time")
    exdates: list[str] = Field(description="Keys of the occurrences deleted or edited alone")
    series_id: int | None = Field(description="An occurrence edited alone: its series")
    recurrence_key: str | None = Field(description="An occurrence edited alone: the key it replaces")
    done: bool = Field(description="Tasks: done")
    done_at: dt.datetime | None
    owner_id: int | None
    owner: Person | None
    participants: list[Participant]
    reminders: list[int] = Field(description="Minutes before the start")
    related_table: str | None
    related_id: int | None
    related: Related | None = Field(description="The related record's link, when the reader may see it")
    source: str | None = Field(description="The addon that put the item here (a follow-up plan), if any")
    created_at: dt.datetime
    updated_at: dt.datetime


class OccurrenceRead(ItemRead):
    """One showing of an item in a window: the item's fields with the occurrence's own times."""

    key: str | None = Field(description="The occurrence's key in its series (PATCH/DELETE ?key=); null for a "
                                        "single item")
    ref: str = Field(description="``id`` or ``id@key``")


class OccurrenceList(BaseModel):
    items: list[OccurrenceRead]


# ---------------------------------------------------------------- requests


class ItemFields(BaseModel):
    """What events and tasks share; ``None`` (or absent) keeps the default or the item's value."""

    model_config = ConfigDict(extra="forbid")

    location: str | None = Field(default=None, max_length=services.LIMITS["location"])
    description: str | None = Field(default=None, max_length=services.LIMITS["description"])
    private: bool = Field(default=False, description="Only the owner and participants see it")
    reminders: list[Minutes] = Field(default_factory=list, max_length=services.MAX_REMINDERS,
                                     description="Minutes before the start (0 to 43200)")
    related_table: str | None = Field(default=None, max_length=64, description="The related record's table, "
                                                                              "e.g. customers_customer")
    related_id: int | None = Field(default=None, ge=1, le=MAX_ID)


TZID = Field(default=None, max_length=64, description="IANA zone (Asia/Shanghai); default: the caller's. "
                                                      "Times without an offset are wall times here")
START = Field(default=None, description="ISO 8601 with an offset, or without one in tzid")


class EventCreate(ItemFields):
    title: str = Field(min_length=1, max_length=services.LIMITS["title"])
    type: ItemType = "other"
    all_day: bool = False
    tzid: str | None = TZID
    start: dt.datetime | None = START
    end: dt.datetime | None = Field(default=None, description="Default: an hour after the start")
    start_date: dt.date | None = Field(default=None, description="All-day events")
    end_date: dt.date | None = Field(default=None, description="All-day events: the last day (default: start_date)")
    rrule: str | None = Field(default=None, max_length=300, description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;COUNT=10")
    participants: list[Id] = Field(default_factory=list, max_length=services.MAX_PARTICIPANTS,
                                   description="User ids; each is invited")


class EventUpdate(EventCreate):
    """PATCH: only the fields sent change (``?key=&mode=`` for a series' occurrence)."""

    title: str = Field(default=None, min_length=1, max_length=services.LIMITS["title"])
    type: ItemType = Field(default=None)
    all_day: bool = Field(default=None)
    tzid: str = Field(default=None, max_length=64, description="IANA zone; default: the item's")
    private: bool = Field(default=None)
    reminders: list[Minutes] = Field(default=None, max_length=services.MAX_REMINDERS)
    participants: list[Id] = Field(default=None, max_length=services.MAX_PARTICIPANTS)


class TaskCreate(ItemFields):
    title: str = Field(min_length=1, max_length=services.LIMITS["title"])
    type: ItemType = "other"
    all_day: bool = Field(default=False, description="Due on a day (start_date) rather than at a time")
    tzid: str | None = TZID
    start: dt.datetime | None = Field(default=None, description="The due time: ISO 8601 with an offset, or "
                                                                "without one in tzid")
    start_date: dt.date | None = Field(default=None, description="All-day tasks: the day due")


class TaskUpdate(TaskCreate):
    """PATCH: only the fields sent change."""

    title: str = Field(default=None, min_length=1, max_length=services.LIMITS["title"])
    type: ItemType = Field(default=None)
    all_day: bool = Field(default=None)
    tzid: str = Field(default=None, max_length=64, description="IANA zone; default: the item's")
    private: bool = Field(default=None)
    reminders: list[Minutes] = Field(default=None, max_length=services.MAX_REMINDERS)


#: ``from`` is a Python keyword: the model is made with the parameter names as they are sent.
WindowQuery = create_model(
    "WindowQuery", __config__=ConfigDict(extra="forbid"),
    **{"from": (str, Field(max_length=40, description="YYYY-MM-DD (the caller's day) or a date-time with offset")),
       "to": (str, Field(max_length=40, description="YYYY-MM-DD (inclusive) or a date-time with offset "
                                                    "(exclusive); at most 400 days after from"))})


class RespondBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1, le=MAX_ID, description="The event")
    response: Literal["accepted", "declined"]


class Answer(BaseModel):
    id: int = Field(description="The event")
    user_id: int
    response: str


# ---------------------------------------------------------------- reading


def reader_zone(ctx: Ctx) -> zoneinfo.ZoneInfo:
    """The caller's zone (``User.timezone``), Asia/Shanghai when it is missing or unknown."""
    try:
        return zone(getattr(ctx.user, "timezone", None) or DEFAULT_ZONE)
    except UnknownZone:
        return zone(DEFAULT_ZONE)


def _visible(kind: str) -> Callable[[Ctx], ColumnElement[bool]]:
    def condition(ctx: Ctx) -> ColumnElement[bool]:
        return and_(visible_condition(ctx), CalendarItem.kind == kind)

    return condition


def item_extras(ctx: Ctx, items: Sequence[CalendarItem]) -> dict[int, dict[str, Any]]:
    """The fields that are not plain columns, for a whole response: participants, reminders and
    owners in three queries, related links in one hook call per table."""
    tz = reader_zone(ctx)
    ids = [item.id for item in items]
    participants: dict[int, list[dict[str, Any]]] = {item_id: [] for item_id in ids}
    for item_id, user_id, response, display, username in ctx.dbsession.execute(
            select(Attendee.item_id, Attendee.user_id, Attendee.response, User.display_name, User.username)
            .join(User, User.id == Attendee.user_id).where(Attendee.item_id.in_(ids)).order_by(Attendee.id)):
        participants[item_id].append({"user_id": user_id, "name": display or username, "response": response})
    minutes: dict[int, list[int]] = {item_id: [] for item_id in ids}
    for item_id, before in ctx.dbsession.execute(select(Reminder.item_id, Reminder.minutes_before)
                                                 .where(Reminder.item_id.in_(ids)).order_by(Reminder.minutes_before)):
        minutes[item_id].append(before)
    owner_ids = {item.owner_id for item in items if item.owner_id is not None}
    owners = {user_id: {"id": user_id, "name": display or username} for user_id, display, username in
              ctx.dbsession.execute(select(User.id, User.display_name, User.username)
                                    .where(User.id.in_(owner_ids)))} if owner_ids else {}
    links = record_links(ctx, [(item.related_table, item.related_id) for item in items
                               if item.related_table and item.related_id is not None])
    found = {}
    for item in items:
        link = links.get((item.related_table, item.related_id)) if item.related_table else None  # type: ignore[arg-type]
        found[item.id] = {
            "colour": COLOURS.get(item.type, COLOURS["other"]),
            "start": item.start_at.astimezone(tz) if item.start_at is not None else None,
            "end": item.end_at.astimezone(tz) if item.end_at is not None else None,
            "done": item.done_at is not None,
            "owner": owners.get(item.owner_id),  # type: ignore[arg-type]
            "participants": participants[item.id],
            "reminders": minutes[item.id],
            "related": {"table": item.related_table, "id": item.related_id, "title": link.title,
                        "url": link.url} if link is not None else None,
        }
    return found


def occurrence_values(ctx: Ctx, resource: ApiResource, found: Sequence[Occurrence]) -> list[dict[str, Any]]:
    """Each occurrence as its item (read once per item) with its own times, key and ref."""
    tz = reader_zone(ctx)
    items = list({occurrence.item.id: occurrence.item for occurrence in found}.values())
    values = dict(zip([item.id for item in items], resource.read_values(ctx, items), strict=True))
    shown = []
    for occurrence in found:
        value = dict(values[occurrence.item.id], key=occurrence.key, ref=occurrence.ref)
        if occurrence.item.all_day:
            value.update(start_date=occurrence.start_date.isoformat(),  # type: ignore[union-attr]
                         end_date=occurrence.end_date.isoformat())  # type: ignore[union-attr]
        else:
            value.update(start=occurrence.start.astimezone(tz).isoformat() if occurrence.start else None,
                         end=occurrence.end.astimezone(tz).isoformat() if occurrence.end else None)
        shown.append(value)
    return shown


def _instant(raw: str, param: str, tz: zoneinfo.ZoneInfo, *, end: bool) -> dt.datetime:
    """A window bound: a date is the caller's day (``to`` takes the whole day), a date-time needs
    its offset (a bare one would be read in some zone the caller did not say)."""
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            return to_utc(dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time()), tz)
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise BadParameter(field=param, problem=_("A date (YYYY-MM-DD), or a date and time with its UTC offset "
                                                  "(ISO 8601)."))
    return value.astimezone(UTC)


def _window(kind: str) -> Callable[[Ctx, Any], dict[str, Any]]:
    def listing(ctx: Ctx, params: Any) -> dict[str, Any]:
        """The occurrences of the window, in order: series expanded inside it only."""
        tz = reader_zone(ctx)
        after = _instant(getattr(params, "from"), "from", tz, end=False)
        before = _instant(params.to, "to", tz, end=True)
        found = occurrences(ctx, after, before, tz, kind=kind)
        return {"items": occurrence_values(ctx, RESOURCES[kind], found)}

    return listing


# ---------------------------------------------------------------- writing


def _occurrence_target() -> tuple[str | None, str]:
    """``?key=&mode=`` of a PATCH or DELETE (module docstring), checked: other parameters are
    refused as on every list, so a misspelt ``mode`` never changes a whole series."""
    request = get_current_request()
    params = query_parameters(request, allowed={"key", "mode"}) if request is not None else {}
    mode = params.get("mode", "all")
    if mode not in services.MODES:
        raise BadParameter(field="mode", problem=_("one, following or all."))
    key = params.get("key") or None
    if key is None and mode != "all":
        raise BadParameter(field="mode", problem=_("Give the occurrence's key with it."))
    return key, mode


def _of_kind(ctx: Ctx, item_id: int, kind: str) -> CalendarItem:
    """The item to change (the caller's write scope, not someone's private item), of this
    resource's kind: an event is not found under /tasks."""
    item = get_item(ctx, item_id, "write")
    if item.kind != kind:
        raise RecordNotFound()
    return item


def _wall(value: dt.datetime | None, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return wall(value, tz)


def item_data(ctx: Ctx, base: services.ItemData, fields: dict[str, Any]) -> services.ItemData:
    """``base`` with the fields of a body replaced: times with an offset become wall times in
    the item's zone; a new ``tzid`` alone keeps the instant. ``services.check`` does the rest."""
    tzid = fields.get("tzid") or base.tzid
    tz = zone(tzid)
    all_day = base.all_day if fields.get("all_day") is None else fields["all_day"]
    if all_day:
        wrong = [field for field in TIME_FIELDS if fields.get(field) is not None]
        problem = _("An all-day item takes start_date and end_date.")
    else:
        wrong = [field for field in DAY_FIELDS if fields.get(field) is not None]
        problem = _("An item with times takes start and end; all-day items take dates.")
    if wrong:
        raise ValidationFailed(field=wrong[0], problem=problem)
    # A null is "none" for the nullable fields (a create's unsent fields are null too); the
    # schemas refuse null for the others.
    changes = dict(fields, tzid=tzid, all_day=all_day)
    for field in TIME_FIELDS:
        if field in fields:
            changes[field] = _wall(fields[field], tz)
        elif tzid != base.tzid and getattr(base, field) is not None:
            changes[field] = wall(to_utc(getattr(base, field), zone(base.tzid)), tz)
    for field in ("location", "description"):
        if field in changes and changes[field] is None:
            changes[field] = ""
    for field in ("participants", "reminders"):
        if field in changes:
            changes[field] = tuple(changes[field])
    return dataclasses.replace(base, **changes)


def _create(kind: str) -> Callable[[Ctx, dict[str, Any]], CalendarItem]:
    def create(ctx: Ctx, fields: dict[str, Any]) -> CalendarItem:
        base = services.ItemData(title="", kind=kind, tzid=reader_zone(ctx).key)
        return services.create_item(ctx, item_data(ctx, base, fields))

    return create


def _update(kind: str) -> Callable[[Ctx, CalendarItem, dict[str, Any]], CalendarItem]:
    def update(ctx: Ctx, record: CalendarItem, fields: dict[str, Any]) -> CalendarItem:
        key, mode = _occurrence_target()
        item = _of_kind(ctx, record.id, kind)
        occurrence = occurrence_at(item, key) if key else None
        base = services.data_of(item, occurrence if item.rrule else None)
        data = item_data(ctx, base, fields)
        return services.update_item(ctx, item.id, data, key=key if item.rrule else None, mode=mode)

    return update


def _delete(kind: str) -> Callable[[Ctx, CalendarItem], None]:
    def delete(ctx: Ctx, record: CalendarItem) -> None:
        key, mode = _occurrence_target()
        item = _of_kind(ctx, record.id, kind)
        if key:
            occurrence_at(item, key)
        services.delete_item(ctx, item.id, key=key if item.rrule else None, mode=mode)

    return delete


def respond(ctx: Ctx, body: RespondBody) -> dict[str, Any]:
    """A participant's answer (for a whole series); the event must be one the caller sees."""
    item = EVENTS.get_readable(ctx, body.id)
    answer = services.respond(ctx, item.id, body.response)
    return {"id": item.id, "user_id": answer.user_id, "response": answer.response}


def _set_done(done: bool) -> Callable[[Ctx, CalendarItem, Any], dict[str, Any]]:
    def handler(ctx: Ctx, record: CalendarItem, _params: Any) -> dict[str, Any]:
        _of_kind(ctx, record.id, "task")
        return TASKS.read_values(ctx, [services.set_done(ctx, record.id, done)])[0]

    return handler


# ---------------------------------------------------------------- the resources

WINDOW_DOC = (" `GET /{name}/occurrences?from=&to=` lists what a window shows (series expanded, at most "
              f"{MAX_WINDOW_DAYS} days; dates are the caller's days, `to` inclusive; date-times need an offset).")
SERIES_DOC = (" A series' occurrence: `PATCH|DELETE /events/{id}?key=<occurrence key>&mode=one|following|all` "
              "(default all); a PATCH answers the item that holds the change (mode=one: the new single item).")
COMMON = {
    "filters": {"owner_id": "owner_id", "type": "type", "series_id": "series_id", "related_table": "related_table",
                "related_id": "related_id"},
    "search": ("title", "location"),
    "sort": ("id", "created_at", "updated_at"),
    "extra_fields": ("colour", "start", "end", "done", "owner", "participants", "reminders", "related"),
    "load_extra": item_extras,
}
WINDOW_ERRORS = (WindowInvalid,)

EVENTS = ApiResource(
    name="events",
    model=CalendarItem,
    read_schema=ItemRead,
    create_schema=EventCreate,
    update_schema=EventUpdate,
    create=_create("event"),
    update=_update("event"),
    delete=_delete("event"),
    read_scope=_visible("event"),
    description="Calendar events (日程): times in the reader's zone, private items seen by their owner and "
                "participants only." + WINDOW_DOC.format(name="events") + SERIES_DOC,
    actions=(
        ApiAction("occurrences", _window("event"), on="collection", method="GET", params=WindowQuery,
                  response=OccurrenceList, permission="read", errors=WINDOW_ERRORS,
                  summary="The occurrences of events in a window, in order"),
        ApiAction("respond", respond, on="collection", params=RespondBody, response=Answer, permission="read",
                  errors=(NotAParticipant, KindInvalid),
                  summary="Accept or decline an invitation (every occurrence of a series)"),
    ),
    **COMMON,  # type: ignore[arg-type]
)

TASKS = ApiResource(
    name="tasks",
    model=CalendarItem,
    read_schema=ItemRead,
    create_schema=TaskCreate,
    update_schema=TaskUpdate,
    create=_create("task"),
    update=_update("task"),
    delete=_delete("task"),
    read_scope=_visible("task"),
    description="Calendar tasks (任务): `start` is the due time; done and reopened by their actions."
                + WINDOW_DOC.format(name="tasks"),
    actions=(
        ApiAction("occurrences", _window("task"), on="collection", method="GET", params=WindowQuery,
                  response=OccurrenceList, permission="read", errors=WINDOW_ERRORS,
                  summary="The tasks due in a window, in order"),
        ApiAction("done", _set_done(True), response=ItemRead, summary="Mark a task done"),
        ApiAction("reopen", _set_done(False), response=ItemRead, summary="Mark a task not done again"),
    ),
    **COMMON,  # type: ignore[arg-type]
)

RESOURCES = {"event": EVENTS, "task": TASKS}


def include(config: Configurator) -> None:
    """``/api/v1/events`` and ``/api/v1/tasks`` with their actions (routes ``api.calendar.*``)."""
    config.add_api_resource(EVENTS)
    config.add_api_resource(TASKS)
