"""Writing the calendar: items, their series and edit modes, participants' answers, tasks done.

Forms and the API give an ``ItemData`` — times as wall times in the item's zone (the writer's);
``check`` validates all of it before anything is written, so a bad field changes nothing.

A series is edited or deleted for one occurrence (its date joins ``exdates``; an edited one
becomes its own item with ``series_id`` and ``recurrence_key``), for an occurrence and the
following ones (the series is cut before it and a new series carries on), or whole (a moved
series takes its exceptions' keys along). Every write is audited (``core.changes``), reminders
are rescheduled, invitations notified, and items another addon put here are told back to it
(``calendar_item_changed``).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator

from sqlalchemy import select

from core.changes import record_changed
from core.context import Ctx
from core.i18n import _
from core.links import record_link
from core.models import User
from core.notifications.services import notify

from . import recurrence, reminders
from .exceptions import (
    EditModeInvalid,
    EndBeforeStart,
    FieldTooLong,
    KindInvalid,
    NotAParticipant,
    NotATask,
    ParticipantUnavailable,
    RelatedUnavailable,
    ReminderInvalid,
    RepeatInvalid,
    StartRequired,
    TitleRequired,
    TooLong,
    TooManyParticipants,
)
from .models import KINDS, NARROW_SPAN, RESPONSES, TYPES, Attendee, CalendarItem, Reminder
from .occurrences import Occurrence, get_item, item_loads, occurrence_at
from .times import day_span, to_utc, wall, zone

MODES = ("one", "following", "all")
MAX_PARTICIPANTS = 50
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 30 * 24 * 60
MAX_DAYS = 366
LIMITS = {"title": 200, "location": 200, "description": 5000}
INVITED, CHANGED = "calendar.invited", "calendar.changed"
#: Set while the calendar and a source addon exchange a change (the calendar applying the
#: source's, or telling the source its own): what comes back the other way is an echo.
_exchanging: contextvars.ContextVar[bool] = contextvars.ContextVar("calendar_exchanging", default=False)


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Write items without telling their source addons (it is their change being applied)."""
    token = _exchanging.set(True)
    try:
        yield
    finally:
        _exchanging.reset(token)


def exchanging() -> bool:
    """Whether a change between the calendar and a source addon is under way."""
    return _exchanging.get()


@dataclasses.dataclass(frozen=True)
class ItemData:
    """What a form or the API asks for. Timed items: ``start`` / ``end`` are naive wall times in
    ``tzid`` (a task has no end: ``start`` is its due time). All-day items: ``start_date`` /
    ``end_date`` (inclusive). ``rrule`` is RRULE text (``recurrence.Repeat.rule()``)."""

    title: str
    kind: str = "event"
    type: str = "other"
    all_day: bool = False
    tzid: str = "Asia/Shanghai"
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    location: str = ""
    description: str = ""
    private: bool = False
    rrule: str | None = None
    participants: tuple[int, ...] = ()
    reminders: tuple[int, ...] = ()
    related_table: str | None = None
    related_id: int | None = None


@dataclasses.dataclass(frozen=True)
class ItemChange:
    """What ``calendar_item_changed`` tells the addon that put an item here (``source``):
    ``state`` is moved, done, reopened or deleted; ``due_at`` the item's start (aware UTC)."""

    item_id: int
    source: str
    source_id: int
    state: str
    due_at: dt.datetime | None
    owner_id: int | None


def data_of(item: CalendarItem, occurrence: Occurrence | None = None) -> ItemData:
    """The item as a form shows it: an occurrence's own times when one is given."""
    occurrence = occurrence or Occurrence(item, None, item.start_at, item.end_at, item.start_date, item.end_date)
    tz = zone(item.tzid)
    return ItemData(
        title=item.title, kind=item.kind, type=item.type, all_day=item.all_day, tzid=item.tzid,
        start=wall(occurrence.start, tz) if occurrence.start is not None else None,
        end=wall(occurrence.end, tz) if occurrence.end is not None else None,
        start_date=occurrence.start_date, end_date=occurrence.end_date,
        location=item.location or "", description=item.description or "", private=item.private,
        rrule=item.rrule, participants=tuple(a.user_id for a in item.attendees),
        reminders=tuple(r.minutes_before for r in item.reminders),
        related_table=item.related_table, related_id=item.related_id)


# ---------------------------------------------------------------- checking


def check(ctx: Ctx, data: ItemData, owner_id: int | None = None, *, trusted: bool = False) -> ItemData:
    """The data cleaned (titles stripped, default ends) or the first problem as a KehuError.
    ``trusted``: another addon's item, whose link it vouches for (the reader need not see it)."""
    title = (data.title or "").strip()
    if not title:
        raise TitleRequired()
    for field, label in (("title", _("Title")), ("location", _("Location")), ("description", _("Description"))):
        if len(getattr(data, field) or "") > LIMITS[field]:
            raise FieldTooLong(field=label, limit=LIMITS[field])
    if data.kind not in KINDS:
        raise KindInvalid(value=data.kind)
    if data.type not in TYPES:
        raise KindInvalid(value=data.type)
    zone(data.tzid)
    changes: dict = {"title": title, "location": (data.location or "").strip(),
                     "description": (data.description or "").strip()}
    if data.all_day:
        if data.start_date is None:
            raise StartRequired()
        end_date = data.end_date or data.start_date
        if data.kind == "task":
            end_date = data.start_date
        if end_date < data.start_date:
            raise EndBeforeStart()
        if (end_date - data.start_date).days >= MAX_DAYS:
            raise TooLong(days=MAX_DAYS)
        changes.update(end_date=end_date, start=None, end=None)
        first = dt.datetime.combine(data.start_date, dt.time())
    else:
        if data.start is None:
            raise StartRequired()
        start = data.start.replace(second=0, microsecond=0)
        end = None
        if data.kind == "event":
            end = (data.end or start + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
            if end < start:
                raise EndBeforeStart()
            if end - start > dt.timedelta(days=MAX_DAYS):
                raise TooLong(days=MAX_DAYS)
        changes.update(start=start, end=end, start_date=None, end_date=None)
        first = start
    if data.rrule:
        if data.kind == "task":
            raise RepeatInvalid(problem=_("a task does not repeat; make it an event"))
        changes["rrule"] = recurrence.check(data.rrule, first)
    else:
        changes["rrule"] = None
    minutes = sorted(set(data.reminders))
    if len(minutes) > MAX_REMINDERS or any(not 0 <= m <= MAX_REMINDER_MINUTES for m in minutes):
        raise ReminderInvalid(limit=MAX_REMINDERS)
    changes["reminders"] = tuple(minutes)
    people = tuple(dict.fromkeys(p for p in data.participants if p != owner_id))
    if len(people) > MAX_PARTICIPANTS:
        raise TooManyParticipants(limit=MAX_PARTICIPANTS)
    if people:
        active = dict(ctx.dbsession.execute(select(User.id, User.active).where(User.id.in_(people))).all())
        for person in people:
            if not active.get(person):
                found = ctx.dbsession.execute(select(User.display_name, User.username).where(User.id == person)).first()
                name = (found[0] or found[1]) if found else f"#{person}"
                raise ParticipantUnavailable(name=name)
    changes["participants"] = people
    linked = data.related_table or data.related_id is not None
    if linked and not trusted and (not data.related_table or data.related_id is None
                                   or record_link(ctx, data.related_table, data.related_id) is None):
        raise RelatedUnavailable()
    return dataclasses.replace(data, **changes)


# ---------------------------------------------------------------- creating and editing


def create_item(ctx: Ctx, data: ItemData, *, owner_id: int | None = None, source: str | None = None,
                source_id: int | None = None, uid: str | None = None) -> CalendarItem:
    """A new item of ``owner_id`` (the user by default), checked, audited, its participants
    invited and its reminders scheduled."""
    ctx.access.require("calendar.item:create")
    owner = owner_id if owner_id is not None else (ctx.user.id if ctx.user is not None else None)
    return place_item(ctx, data, owner_id=owner, source=source, source_id=source_id, uid=uid)


def place_item(ctx: Ctx, data: ItemData, *, owner_id: int | None, source: str | None = None,
               source_id: int | None = None, uid: str | None = None) -> CalendarItem:
    """``create_item`` without the user's permission check: for items another addon puts on
    someone's calendar (``source``), whose links that addon vouches for."""
    owner = owner_id
    data = check(ctx, data, owner, trusted=source is not None)
    item = CalendarItem(owner_id=owner, source=source, source_id=source_id, uid=uid, exdates=[], attendees=[],
                        reminders=[])
    _write(ctx, item, data)
    ctx.dbsession.add(item)
    ctx.dbsession.flush()
    invited = _set_people(ctx, item, data)
    record_changed(ctx, "created", item, {field: (None, value) for field, value in _snapshot(item).items()
                                          if value not in (None, "", False, [])})
    _tell_invited(ctx, item, invited)
    reminders.schedule(ctx, item)
    return item


def update_item(ctx: Ctx, item_id: int, data: ItemData, *, key: str | None = None,
                mode: str = "all") -> CalendarItem:
    """Change an item; for a series, ``key`` names the occurrence the form showed and ``mode``
    what the change is for (one, following, all). Returns the item that now holds the change."""
    if mode not in MODES:
        raise EditModeInvalid()
    item = get_item(ctx, item_id, "write")
    data = check(ctx, data, item.owner_id)
    if item.rrule and key:
        occurrence = occurrence_at(item, key)
        if mode == "one":
            return _edit_one(ctx, item, occurrence, data)
        if mode == "following" and key != _first_key(item):
            return _edit_following(ctx, item, occurrence, data)
        data = _moved_to_series(item, occurrence, data)
    return _edit(ctx, item, data)


def move_item(ctx: Ctx, item_id: int, key: str | None, *, start: dt.datetime | None = None,
              end: dt.datetime | None = None, start_date: dt.date | None = None,
              end_date: dt.date | None = None, mode: str = "one") -> CalendarItem:
    """Drag and drop: the same item at new times (wall times in its zone, or dates)."""
    item = get_item(ctx, item_id, "write")
    occurrence = occurrence_at(item, key) if item.rrule and key else None
    data = dataclasses.replace(data_of(item, occurrence), start=start, end=end if item.kind == "event" else None,
                               start_date=start_date, end_date=end_date)
    return update_item(ctx, item_id, data, key=key if occurrence else None, mode=mode)


def delete_item(ctx: Ctx, item_id: int, *, key: str | None = None, mode: str = "all") -> None:
    """Delete an item, or for a series one occurrence (``key``), it and the following, or all."""
    if mode not in MODES:
        raise EditModeInvalid()
    ctx.access.require("calendar.item:delete")
    item = get_item(ctx, item_id, "write")
    if item.rrule and key and mode != "all":
        occurrence_at(item, key)
        if mode == "one":
            _skip(ctx, item, [key])
            return
        if key != _first_key(item):
            _cut(ctx, item, key)
            for exception in _exceptions(ctx, item, since=key):
                _remove(ctx, exception)
            return
    for exception in _exceptions(ctx, item) if item.rrule else ():
        _remove(ctx, exception)
    _remove(ctx, item)


def rewrite_item(ctx: Ctx, item: CalendarItem, data: ItemData) -> CalendarItem:
    """Another addon's item made to agree with its source (``followups``), whoever acts."""
    return _edit(ctx, item, check(ctx, data, item.owner_id, trusted=True))


def remove_item(ctx: Ctx, item: CalendarItem) -> None:
    """Another addon's item gone with its source, whoever acts."""
    _remove(ctx, item)


def set_done(ctx: Ctx, item_id: int, done: bool = True) -> CalendarItem:
    """Mark a task done (or not done again)."""
    item = get_item(ctx, item_id, "write")
    if item.kind != "task":
        raise NotATask()
    before = item.done_at
    if bool(before) == done:
        return item
    item.done_at = ctx.now if done else None
    ctx.dbsession.flush()
    record_changed(ctx, "updated", item, {"done_at": (before, item.done_at)})
    reminders.schedule(ctx, item)
    _tell_source(ctx, item, "done" if done else "reopened")
    return item


def respond(ctx: Ctx, item_id: int, response: str) -> Attendee:
    """A participant accepts or declines (a series: every occurrence of it)."""
    if response not in RESPONSES[1:]:
        raise KindInvalid(value=response)
    item = get_item(ctx, item_id)
    me = ctx.user.id if ctx.user is not None else None
    rows = list(ctx.dbsession.scalars(select(Attendee).where(
        Attendee.user_id == me, Attendee.item_id.in_([item.id, *_exception_ids(ctx, item)]))))
    mine = next((row for row in rows if row.item_id == item.id), None)
    if mine is None:
        raise NotAParticipant()
    before = mine.response
    for row in rows:
        row.response = response
    ctx.dbsession.flush()
    record_changed(ctx, "updated", item, {f"attendee:{me}": (before, response)})
    return mine


# ---------------------------------------------------------------- the edit modes


def _edit(ctx: Ctx, item: CalendarItem, data: ItemData) -> CalendarItem:
    before = _snapshot(item)
    old_start = _local_start(item)
    _write(ctx, item, data)
    if item.rrule and old_start is not None and before["rrule"] is not None:
        delta = _local_start(item) - old_start  # type: ignore[operator]
        if delta:
            item.exdates = recurrence.shift_keys(item.exdates or (), delta, item.all_day)
            for exception in _exceptions(ctx, item):
                exception.recurrence_key = recurrence.shift_keys([exception.recurrence_key], delta,
                                                                 item.all_day)[0]
    invited = _set_people(ctx, item, data)
    ctx.dbsession.flush()
    after = _snapshot(item)
    changes = {field: (before[field], value) for field, value in after.items() if before[field] != value}
    if changes:
        record_changed(ctx, "updated", item, changes)
    _tell_invited(ctx, item, invited)
    if {"start_at", "end_at", "start_date", "end_date", "rrule"} & changes.keys():
        _tell_changed(ctx, item, [p for p in _people(item) if p not in invited])
        _tell_source(ctx, item, "moved")
    reminders.schedule(ctx, item)
    return item


def _edit_one(ctx: Ctx, series: CalendarItem, occurrence: Occurrence, data: ItemData) -> CalendarItem:
    _skip(ctx, series, [occurrence.key])  # type: ignore[list-item]
    alone = CalendarItem(owner_id=series.owner_id, series_id=series.id, recurrence_key=occurrence.key,
                         source=series.source, source_id=series.source_id, exdates=[], attendees=[], reminders=[])
    _write(ctx, alone, dataclasses.replace(data, rrule=None))
    ctx.dbsession.add(alone)
    ctx.dbsession.flush()
    answers = {a.user_id: a.response for a in series.attendees}
    invited = _set_people(ctx, alone, data, answers)
    record_changed(ctx, "created", alone, {field: (None, value) for field, value in _snapshot(alone).items()
                                           if value not in (None, "", False, [])})
    _tell_invited(ctx, alone, invited)
    reminders.schedule(ctx, alone)
    return alone


def _edit_following(ctx: Ctx, series: CalendarItem, occurrence: Occurrence, data: ItemData) -> CalendarItem:
    cut_at = recurrence.parse_key(occurrence.key)  # type: ignore[arg-type]
    rule = data.rrule
    if rule == series.rrule:
        rule = recurrence.rest_from(series.rrule, _local_start(series), cut_at)  # type: ignore[arg-type]
    rest = CalendarItem(owner_id=series.owner_id, source=series.source, source_id=series.source_id, exdates=[],
                        attendees=[], reminders=[])
    _write(ctx, rest, dataclasses.replace(data, rrule=rule))
    delta = _local_start(rest) - cut_at  # type: ignore[operator]
    rest.exdates = recurrence.shift_keys([k for k in series.exdates or () if k >= occurrence.key], delta,
                                         series.all_day)
    ctx.dbsession.add(rest)
    ctx.dbsession.flush()
    for exception in _exceptions(ctx, series, since=occurrence.key):
        exception.series_id = rest.id
        exception.recurrence_key = recurrence.shift_keys([exception.recurrence_key], delta, series.all_day)[0]
    answers = {a.user_id: a.response for a in series.attendees}
    invited = _set_people(ctx, rest, data, answers)
    _cut(ctx, series, occurrence.key)  # type: ignore[arg-type]
    record_changed(ctx, "created", rest, {field: (None, value) for field, value in _snapshot(rest).items()
                                          if value not in (None, "", False, [])})
    _tell_invited(ctx, rest, invited)
    reminders.schedule(ctx, rest)
    return rest


def _moved_to_series(series: CalendarItem, occurrence: Occurrence, data: ItemData) -> ItemData:
    """An "all" edit made on an occurrence: the series' first start moves by as much as the
    occurrence did, and keeps the length the form gave."""
    if series.all_day:
        delta = data.start_date - occurrence.start_date  # type: ignore[operator]
        length = data.end_date - data.start_date  # type: ignore[operator]
        start = series.start_date + delta  # type: ignore[operator]
        return dataclasses.replace(data, start_date=start, end_date=start + length)
    tz = zone(series.tzid)
    delta = data.start - wall(occurrence.start, tz)  # type: ignore[operator, arg-type]
    start = wall(series.start_at, tz) + delta  # type: ignore[arg-type]
    end = start + (data.end - data.start) if data.end is not None else None  # type: ignore[operator]
    return dataclasses.replace(data, start=start, end=end)


def _skip(ctx: Ctx, series: CalendarItem, keys: Iterable[str]) -> None:
    before = list(series.exdates or ())
    series.exdates = sorted({*before, *keys})
    ctx.dbsession.flush()
    record_changed(ctx, "updated", series, {"exdates": (before, series.exdates)})
    reminders.schedule(ctx, series)


def _cut(ctx: Ctx, series: CalendarItem, key: str) -> None:
    """The series ends before the occurrence ``key``."""
    before = series.rrule
    series.rrule = recurrence.cut_before(series.rrule, _local_start(series), recurrence.parse_key(key))  # type: ignore[arg-type]
    series.exdates = [k for k in series.exdates or () if k < key]
    _set_span(series)
    ctx.dbsession.flush()
    record_changed(ctx, "updated", series, {"rrule": (before, series.rrule)})
    reminders.schedule(ctx, series)


def _remove(ctx: Ctx, item: CalendarItem) -> None:
    people = _people(item)
    record_changed(ctx, "deleted", item, {field: (value, None) for field, value in _snapshot(item).items()
                                          if value not in (None, "", False, [])})
    _tell_changed(ctx, item, people, deleted=True)
    _tell_source(ctx, item, "deleted")
    ctx.dbsession.delete(item)
    ctx.dbsession.flush()


def _first_key(series: CalendarItem) -> str:
    return recurrence.key(_local_start(series), series.all_day)  # type: ignore[arg-type]


def _exceptions(ctx: Ctx, series: CalendarItem, since: str | None = None) -> list[CalendarItem]:
    query = select(CalendarItem).where(CalendarItem.series_id == series.id).options(*item_loads())
    if since is not None:
        query = query.where(CalendarItem.recurrence_key >= since)
    return list(ctx.dbsession.scalars(query.order_by(CalendarItem.id)))


def _exception_ids(ctx: Ctx, item: CalendarItem) -> list[int]:
    return list(ctx.dbsession.scalars(select(CalendarItem.id).where(CalendarItem.series_id == item.id)))


# ---------------------------------------------------------------- rows


def _write(ctx: Ctx, item: CalendarItem, data: ItemData) -> None:
    """Copy checked data onto the row and work out its UTC times and search span."""
    item.kind, item.type, item.title = data.kind, data.type, data.title
    item.location, item.description = data.location or None, data.description or None
    item.private, item.all_day, item.tzid, item.rrule = data.private, data.all_day, data.tzid, data.rrule
    item.related_table, item.related_id = data.related_table, data.related_id
    tz = zone(data.tzid)
    if data.all_day:
        item.start_at = item.end_at = None
        item.start_date, item.end_date = data.start_date, data.end_date
    else:
        item.start_date = item.end_date = None
        item.start_at = to_utc(data.start, tz)  # type: ignore[arg-type]
        item.end_at = to_utc(data.end, tz) if data.end is not None else None
    if sorted(r.minutes_before for r in item.reminders) != list(data.reminders):
        item.reminders = [Reminder(minutes_before=m) for m in data.reminders]
    _set_span(item)


def _set_span(item: CalendarItem) -> None:
    _bound_span(item)
    item.wide = item.span_end is None or item.span_end - item.span_start > NARROW_SPAN


def _bound_span(item: CalendarItem) -> None:
    if item.all_day:
        length = item.end_date - item.start_date  # type: ignore[operator]
        last = item.start_date
        if item.rrule:
            final = recurrence.last_start(item.rrule, dt.datetime.combine(item.start_date, dt.time()))  # type: ignore[arg-type]
            last = final.date() if final is not None else None
        item.span_start, end = day_span(item.start_date, (last or item.start_date) + length)  # type: ignore[arg-type, operator]
        item.span_end = end if last is not None else None
        return
    tz = zone(item.tzid)
    item.span_start = item.start_at  # type: ignore[assignment]
    length = (item.end_at - item.start_at) if item.end_at is not None else dt.timedelta()  # type: ignore[operator]
    if not item.rrule:
        item.span_end = item.start_at + length  # type: ignore[operator]
        return
    final = recurrence.last_start(item.rrule, wall(item.start_at, tz))  # type: ignore[arg-type]
    item.span_end = to_utc(final, tz) + length + dt.timedelta(hours=3) if final is not None else None


def _local_start(item: CalendarItem) -> dt.datetime | None:
    if item.all_day:
        return dt.datetime.combine(item.start_date, dt.time()) if item.start_date else None  # type: ignore[arg-type]
    return wall(item.start_at, zone(item.tzid)) if item.start_at is not None else None


def _set_people(ctx: Ctx, item: CalendarItem, data: ItemData, answers: dict[int, str] | None = None) -> list[int]:
    """Make the participants those of ``data``, keeping answers; returns the newly invited."""
    current = {a.user_id: a for a in item.attendees}
    wanted = list(data.participants)
    for user_id, attendee in current.items():
        if user_id not in wanted:
            item.attendees.remove(attendee)
    invited = [user_id for user_id in wanted if user_id not in current]
    for user_id in invited:
        item.attendees.append(Attendee(user_id=user_id, response=(answers or {}).get(user_id, "pending")))
    ctx.dbsession.flush()
    return [user_id for user_id in invited if (answers or {}).get(user_id) is None]


def _people(item: CalendarItem) -> list[int]:
    return [a.user_id for a in item.attendees if a.response != "declined"]


def _snapshot(item: CalendarItem) -> dict:
    return {"kind": item.kind, "type": item.type, "title": item.title, "location": item.location,
            "description": item.description, "private": item.private, "all_day": item.all_day, "tzid": item.tzid,
            "start_at": item.start_at, "end_at": item.end_at, "start_date": item.start_date,
            "end_date": item.end_date, "rrule": item.rrule, "related_table": item.related_table,
            "related_id": item.related_id, "participants": sorted(a.user_id for a in item.attendees),
            "reminders": sorted(r.minutes_before for r in item.reminders)}


# ---------------------------------------------------------------- telling others


def _tell_invited(ctx: Ctx, item: CalendarItem, people: list[int]) -> None:
    if people:
        notify(ctx, people, INVITED, item, _("You are invited to “${title}”.", mapping={"title": item.title}),
               url=f"/calendar/items/{item.id}")


def _tell_changed(ctx: Ctx, item: CalendarItem, people: list[int], deleted: bool = False) -> None:
    if not people:
        return
    message = (_("“${title}” is cancelled.", mapping={"title": item.title}) if deleted
               else _("“${title}” has new times.", mapping={"title": item.title}))
    notify(ctx, people, CHANGED, None if deleted else item, message,
           url=None if deleted else f"/calendar/items/{item.id}")


def _tell_source(ctx: Ctx, item: CalendarItem, state: str) -> None:
    if item.source and item.source_id is not None and not exchanging():
        due = item.start_at if not item.all_day else to_utc(dt.datetime.combine(item.start_date, dt.time(9)),  # type: ignore[arg-type]
                                                              zone(item.tzid))
        with quietly():
            ctx.hooks.calendar_item_changed(ctx=ctx, change=ItemChange(
                item_id=item.id, source=item.source, source_id=item.source_id, state=state, due_at=due,
                owner_id=item.owner_id))
