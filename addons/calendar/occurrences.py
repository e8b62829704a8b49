"""Reading the calendar: who sees which item, and the occurrences a window shows.

Visibility (D-SCOPE, K1): an item is seen by those whose read scope reaches its owner and by its
participants (who have not declined); a private item only by its owner and participants — a
manager's scope does not open it. Every page, feed, widget and API call reads through
``visible_condition``.

A window query takes items whose UTC span meets the window from the index, then expands series
in Python inside the window only (``recurrence.WINDOW_CAP`` per series).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, union
from sqlalchemy.orm import selectinload

from core.access.exceptions import RecordNotFound
from core.access.scopes import scope_condition
from core.context import Ctx
from core.models import User

from . import recurrence
from .exceptions import OccurrenceUnknown, WindowInvalid
from .models import NARROW_SPAN, Attendee, CalendarItem
from .times import to_utc, wall, zone

#: The longest window one query expands (a year and a bit: the API's and the feed's limit).
MAX_WINDOW_DAYS = 400
#: Colours by type, as the views and the feed show them (Bootstrap's palette).
COLOURS = {"visit": "#198754", "call": "#0d6efd", "meeting": "#6f42c1", "memo": "#fd7e14",
           "followup": "#d63384", "other": "#6c757d"}


@dataclasses.dataclass(frozen=True)
class Occurrence:
    """One showing of an item in a window: the item itself, or one date of its series (``key``).

    Timed: ``start`` / ``end`` are aware UTC. All-day: ``start_date`` / ``end_date`` (inclusive)."""

    item: CalendarItem
    key: str | None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None

    @property
    def ref(self) -> str:
        """The id the views and API use: ``12`` or ``12@2026-12-07T09:00``."""
        return f"{self.item.id}@{self.key}" if self.key else str(self.item.id)

    def local_start(self, tz: zoneinfo.ZoneInfo) -> dt.datetime:
        if self.item.all_day:
            return dt.datetime.combine(self.start_date, dt.time())  # type: ignore[arg-type]
        return wall(self.start, tz)  # type: ignore[arg-type]

    def local_end(self, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
        if self.item.all_day:
            return dt.datetime.combine(self.end_date + dt.timedelta(days=1), dt.time())  # type: ignore[operator]
        return wall(self.end, tz) if self.end is not None else None

    def sort_key(self, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, int, int]:
        return (self.local_start(tz), 0 if self.item.all_day else 1, self.item.id)


def visible_condition(ctx: Ctx) -> ColumnElement[bool]:
    """Items the user may read: in scope or invited, and not someone else's private item."""
    me = ctx.user.id if ctx.user is not None else None
    invited = exists().where(Attendee.item_id == CalendarItem.id, Attendee.user_id == me,
                             Attendee.response != "declined")
    if ctx.user is None:  # the system (jobs, command line) reads everything
        return scope_condition(ctx, CalendarItem)
    return and_(or_(scope_condition(ctx, CalendarItem), invited),
                or_(CalendarItem.private.is_(False), CalendarItem.owner_id == me, invited))


def get_item(ctx: Ctx, item_id: int, action: str = "read") -> CalendarItem:
    """The item, or RecordNotFound (404) when it does not exist or the user may not ``action``
    it (reading includes invitations; writing is the owner's scope, private items the owner's)."""
    if action == "read":
        condition = visible_condition(ctx)
    else:
        condition = and_(scope_condition(ctx, CalendarItem, action),
                         or_(CalendarItem.private.is_(False), CalendarItem.owner_id == ctx.user.id)
                         if ctx.user is not None else CalendarItem.id.is_not(None))
    item = ctx.dbsession.scalar(select(CalendarItem).where(CalendarItem.id == item_id, condition)
                                .options(*item_loads()))
    if item is None:
        raise RecordNotFound()
    return item


def check_window(after: dt.datetime, before: dt.datetime) -> None:
    if before <= after or before - after > dt.timedelta(days=MAX_WINDOW_DAYS):
        raise WindowInvalid(days=MAX_WINDOW_DAYS)


def occurrences(ctx: Ctx, after: dt.datetime, before: dt.datetime, tz: zoneinfo.ZoneInfo, *,
                owners: Iterable[int] | None = None, kind: str | None = None,
                attending: int | None = None, extra: Iterable[ColumnElement[bool]] = ()) -> list[Occurrence]:
    """What the window [after, before) (aware) shows to a reader in ``tz``, in order.

    ``owners`` limits to items those users own or take part in (a person's calendar: their
    own and their invitations); ``attending`` is the reader whose declined invitations are
    left out. Private items stay with visibility."""
    check_window(after, before)
    query = select(CalendarItem).where(visible_condition(ctx), *extra)
    if owners is not None:
        people = list(owners)
        query = query.where(CalendarItem.id.in_(owned_or_invited(people, after, before)))
    else:
        query = query.where(in_window(after, before))
    if kind is not None:
        query = query.where(CalendarItem.kind == kind)
    items = ctx.dbsession.scalars(query.options(*item_loads()).order_by(CalendarItem.span_start, CalendarItem.id))
    first_day, last_day = wall(after, tz).date(), wall(before - dt.timedelta(microseconds=1), tz).date()
    found = [occurrence for item in items
             for occurrence in expand(item, after, before, first_day, last_day)]
    return sorted(found, key=lambda occurrence: occurrence.sort_key(tz))


def in_window(after: dt.datetime, before: dt.datetime) -> ColumnElement[bool]:
    """Items whose span may meet [after, before): narrow ones by a short range of ``span_start``,
    wide ones (series, long events) by theirs — each arm an index range (models.CalendarItem)."""
    return or_(
        and_(CalendarItem.wide.is_(False), CalendarItem.span_start >= after - NARROW_SPAN,
             CalendarItem.span_start < before, CalendarItem.span_end >= after),
        and_(CalendarItem.wide.is_(True), CalendarItem.span_start < before,
             or_(CalendarItem.span_end.is_(None), CalendarItem.span_end >= after)))


def owned_or_invited(people: list[int], after: dt.datetime, before: dt.datetime) -> Any:
    """Ids of the window's items these people own or take part in: a UNION of two index reads
    (the owners' span index, the participants' index), where an OR of both would scan."""
    owned = select(CalendarItem.id).where(CalendarItem.owner_id.in_(people), in_window(after, before))
    invited = (select(Attendee.item_id).join(CalendarItem, CalendarItem.id == Attendee.item_id)
               .where(Attendee.user_id.in_(people), Attendee.response != "declined", in_window(after, before)))
    return union(owned, invited)


def expand(item: CalendarItem, after: dt.datetime, before: dt.datetime,
           first_day: dt.date, last_day: dt.date) -> list[Occurrence]:
    """The item's occurrences in the window: all-day ones by the reader's days, timed ones by
    the instant (a task by its due time)."""
    if item.all_day:
        length = item.end_date - item.start_date  # type: ignore[operator]
        if not item.rrule:
            starts = [dt.datetime.combine(item.start_date, dt.time())]  # type: ignore[arg-type]
        else:
            starts = recurrence.starts_between(
                item.rrule, dt.datetime.combine(item.start_date, dt.time()),  # type: ignore[arg-type]
                dt.datetime.combine(first_day - length, dt.time()), dt.datetime.combine(last_day, dt.time()),
                item.exdates or (), all_day=True)
        return [Occurrence(item, recurrence.key(start, True) if item.rrule else None,
                           start_date=start.date(), end_date=start.date() + length)
                for start in starts if start.date() <= last_day and start.date() + length >= first_day]
    tz = zone(item.tzid)
    local_start = wall(item.start_at, tz)  # type: ignore[arg-type]
    length = wall(item.end_at, tz) - local_start if item.end_at is not None else dt.timedelta()  # type: ignore[arg-type]
    if not item.rrule:
        starts = [local_start]
    else:
        starts = recurrence.starts_between(item.rrule, local_start, wall(after, tz) - length,
                                           wall(before, tz), item.exdates or ())
    found = []
    for start in starts:
        start_utc = to_utc(start, tz)
        end_utc = to_utc(start + length, tz) if item.end_at is not None else None
        if _meets(start_utc, end_utc, after, before):
            found.append(Occurrence(item, recurrence.key(start) if item.rrule else None,
                                    start=start_utc, end=end_utc))
    return found


def occurrence_at(item: CalendarItem, key: str | None) -> Occurrence:
    """The occurrence ``key`` of a series (the item itself when ``key`` is empty), or
    OccurrenceUnknown."""
    if not key or not item.rrule:
        if key and key != item.recurrence_key:
            raise OccurrenceUnknown()
        return single(item)
    try:
        local = recurrence.parse_key(key)
    except ValueError:
        raise OccurrenceUnknown() from None
    if item.all_day:
        start = dt.datetime.combine(item.start_date, dt.time())  # type: ignore[arg-type]
        if key in (item.exdates or ()) or not recurrence.occurs_at(item.rrule, start, local):
            raise OccurrenceUnknown()
        length = item.end_date - item.start_date  # type: ignore[operator]
        return Occurrence(item, key, start_date=local.date(), end_date=local.date() + length)
    tz = zone(item.tzid)
    start = wall(item.start_at, tz)  # type: ignore[arg-type]
    if key in (item.exdates or ()) or not recurrence.occurs_at(item.rrule, start, local):
        raise OccurrenceUnknown()
    end = to_utc(local + (wall(item.end_at, tz) - start), tz) if item.end_at is not None else None  # type: ignore[arg-type]
    return Occurrence(item, key, start=to_utc(local, tz), end=end)


def single(item: CalendarItem) -> Occurrence:
    """The item as one occurrence (its first, for a series)."""
    if item.all_day:
        return Occurrence(item, None, start_date=item.start_date, end_date=item.end_date)
    return Occurrence(item, None, start=item.start_at, end=item.end_at)


def parse_ref(ref: str) -> tuple[int, str | None]:
    """``12`` or ``12@2026-12-07T09:00`` as (id, key); RecordNotFound when malformed."""
    head, _sep, key = ref.partition("@")
    if not head.isdigit():
        raise RecordNotFound()
    return int(head), key or None


def _meets(start: dt.datetime, end: dt.datetime | None, after: dt.datetime, before: dt.datetime) -> bool:
    if end is None or end == start:  # a task or a moment: where it falls
        return after <= start < before
    return start < before and end > after


def item_loads() -> tuple:
    """An item's owner, participants and reminders, loaded with it (pages show them all)."""
    return (selectinload(CalendarItem.attendees).selectinload(Attendee.user).lazyload(User.roles),
            selectinload(CalendarItem.owner).lazyload(User.roles),
            selectinload(CalendarItem.reminders))
