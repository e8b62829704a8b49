"""Reminders (工作备忘提醒, K1): each offset of an item names the next occurrence it fires for
(``next_key``) and when (``next_fire_at``); the periodic job ``calendar.reminders`` sends the
due ones through the core notifications (in-app and e-mail) to the owner and the participants
who have not declined.

Exactly once, with any number of workers: a reminder is taken by a conditional UPDATE on the
``next_key`` it was read with, which also moves it to its next occurrence; on PostgreSQL a
second transaction waits for the first's row lock and then matches nothing. Every change to an
item reschedules its reminders (``schedule``), so a moved item is reminded at its new time, a
deleted one never (its reminders go with it), and an occurrence already reminded is not again.

An all-day item is reminded relative to 09:00 of its day in its zone; a done task not at all.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from core.context import Ctx
from core.i18n import _
from core.notifications.services import notify

from . import recurrence
from .models import CalendarItem, Reminder
from .times import to_utc, wall, zone

KIND = "calendar.reminder"
#: Reminders one run sends at most; the rest go on the next run, minutes later.
BATCH = 500
#: The time of day an all-day item is reminded against.
ALL_DAY_AT = dt.time(9)


def schedule(ctx: Ctx, item: CalendarItem) -> None:
    """Point each of the item's reminders at the first occurrence whose reminder time is not
    past."""
    for reminder in item.reminders:
        reminder.next_key, reminder.next_fire_at = next_fire(item, reminder.minutes_before, ctx.now)
    ctx.dbsession.flush()


def next_fire(item: CalendarItem, minutes: int, now: dt.datetime,
              after_key: str | None = None) -> tuple[str | None, dt.datetime | None]:
    """(occurrence key, fire time) of the next reminder at ``minutes`` before, not before
    ``now`` (and after the occurrence ``after_key``); (None, None) when there is none."""
    if item.kind == "task" and item.done_at is not None:
        return None, None
    tz = zone(item.tzid)
    lead = dt.timedelta(minutes=minutes)
    first = _local_start(item)
    earliest = wall(now + lead, tz)
    if item.all_day:  # the first day whose 09:00 is still ahead
        day = earliest.date() + dt.timedelta(days=1 if earliest.time() > ALL_DAY_AT else 0)
        earliest = dt.datetime.combine(day, dt.time())
    if after_key is not None:
        step = dt.timedelta(days=1) if item.all_day else dt.timedelta(minutes=1)
        earliest = max(earliest, recurrence.parse_key(after_key) + step)
    start = recurrence.next_start(item.rrule, first, earliest, item.exdates or (), item.all_day)
    while start is not None:
        fire = _moment(item, start, tz) - lead
        if fire >= now - dt.timedelta(seconds=59):
            return (recurrence.key(start, item.all_day) if item.rrule else "single"), fire
        if not item.rrule:
            return None, None
        start = recurrence.next_start(item.rrule, first, start, item.exdates or (), item.all_day, inclusive=False)
    return None, None


def remind_due(ctx: Ctx, *, limit: int = BATCH) -> int:
    """Send every reminder due by now; returns how many were sent."""
    due = list(ctx.dbsession.scalars(
        select(Reminder).where(Reminder.next_fire_at <= ctx.now).order_by(Reminder.next_fire_at, Reminder.id)
        .limit(limit)))
    if not due:
        return 0
    items = {item.id: item for item in ctx.dbsession.scalars(
        select(CalendarItem).where(CalendarItem.id.in_({r.item_id for r in due}))
        .options(selectinload(CalendarItem.attendees), selectinload(CalendarItem.reminders)))}
    sent = 0
    for reminder in due:
        item, key = items[reminder.item_id], reminder.next_key
        following = next_fire(item, reminder.minutes_before, ctx.now, after_key=key) \
            if item.rrule and key else (None, None)
        if not claim(ctx, reminder.id, key, following):
            continue  # another worker sent it, or the item changed meanwhile
        people = [item.owner_id, *(a.user_id for a in item.attendees if a.response != "declined")]
        notify(ctx, [p for p in people if p is not None], KIND, item, _message(item, key),
               url=f"/calendar/items/{item.id}")
        sent += 1
    ctx.dbsession.flush()
    return sent


def remind_job(ctx: Ctx) -> dict[str, int]:
    """``calendar.reminders`` (kehu_periodic_jobs)."""
    return {"reminded": remind_due(ctx)}


def claim(ctx: Ctx, reminder_id: int, key: str | None, following: tuple[str | None, dt.datetime | None]) -> bool:
    """Take the reminder for occurrence ``key`` and point it at the next: true for one caller."""
    result = ctx.dbsession.execute(
        update(Reminder).where(Reminder.id == reminder_id, Reminder.next_key == key)
        .values(next_key=following[0], next_fire_at=following[1]).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def _message(item: CalendarItem, key: str | None) -> object:
    tz = zone(item.tzid)
    if key and key != "single":
        start = recurrence.parse_key(key)
    else:
        start = _local_start(item)
    when = start.strftime("%Y-%m-%d") if item.all_day else f"{start:%Y-%m-%d %H:%M} ({tz.key})"
    if item.kind == "task":
        return _("Task “${title}” is due ${when}.", mapping={"title": item.title, "when": when})
    return _("“${title}” starts ${when}.", mapping={"title": item.title, "when": when})


def _local_start(item: CalendarItem) -> dt.datetime:
    if item.all_day:
        return dt.datetime.combine(item.start_date, dt.time())  # type: ignore[arg-type]
    return wall(item.start_at, zone(item.tzid))  # type: ignore[arg-type]


def _moment(item: CalendarItem, local_start: dt.datetime, tz: object) -> dt.datetime:
    if item.all_day:
        return to_utc(dt.datetime.combine(local_start.date(), ALL_DAY_AT), tz)  # type: ignore[arg-type]
    return to_utc(local_start, tz)  # type: ignore[arg-type]

