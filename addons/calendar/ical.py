"""iCalendar (RFC 5545) in and out, as plain conversion: items → VEVENT / VTODO text, and an
.ics file → ``Entry`` rows that say what each component would become or why it cannot.

No database and no request here: the views export what ``occurrences`` let the reader see,
``ical_import`` checks the entries against the user's calendar and writes them.

Export: a series is one VEVENT with its RRULE and EXDATEs; its changed occurrences follow it as
VEVENTs with the series' UID and a RECURRENCE-ID (their keys are then not EXDATEs, or clients
would drop the override too). Timed items carry the TZID of the zone they were entered in, with
its VTIMEZONE; all-day items are dates with an exclusive DTEND. Rules are kept in wall time in
the database, so UNTIL is turned into UTC (timed) or a date (all-day) as RFC 5545 asks.

Import: DTSTART with a known TZID stays in that zone; UTC, floating and unknown zones are read
in the user's zone (UTC and custom VTIMEZONEs keep the instant, the others the wall time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any

from icalendar import Calendar, Event, Todo, vDuration, vRecur
from pyramid.i18n import TranslationString

from core.exceptions import KehuError
from core.i18n import _

from . import recurrence
from .exceptions import IcsInvalid, IcsTooLarge, RepeatInvalid, StartRequired, UnknownZone
from .models import TYPES, CalendarItem
from .services import LIMITS, MAX_REMINDER_MINUTES, MAX_REMINDERS, ItemData
from .times import UTC, to_utc, wall, zone

PRODID = "-//Kehu//Kehu CRM Calendar//ZH"
#: The host-independent part of the UID of an item that has none of its own.
UID_DOMAIN = "kehu"
UID_PREFIX = "kehu-calendar-"
MAX_BYTES = 2 * 1024 * 1024
MAX_ITEMS = 500
#: The RRULE column's width.
MAX_RULE = 300
#: CATEGORIES read back as a type: our own keys (the export writes them) and their usual names.
CATEGORY_TYPES = {**{t: t for t in TYPES}, "拜访": "visit", "电话": "call", "会议": "meeting", "备忘": "memo",
                  "跟进": "followup", "phone call": "call", "appointment": "meeting"}


class DateUnreadable(KehuError):
    """A row of an import whose start cannot be read (the file itself is fine)."""

    message = _("${field} is not a date or time: ${value}")


def item_uid(item: CalendarItem) -> str:
    """The item's UID: the one it was imported with, else one made from its id (stable)."""
    return item.uid or own_uid(item.id)


def own_uid(item_id: int) -> str:
    return f"{UID_PREFIX}{item_id}@{UID_DOMAIN}"


def own_id(uid: str) -> int | None:
    """The item id in a UID this module made (``kehu-calendar-12@kehu``), else None."""
    head, at, domain = uid.partition("@")
    number = head.removeprefix(UID_PREFIX)
    if at and domain == UID_DOMAIN and head.startswith(UID_PREFIX) and number.isdigit():
        return int(number)
    return None


# ---------------------------------------------------------------- export


def export_calendar(items: Iterable[CalendarItem], *, now: dt.datetime, name: str | None = None,
                    timezone: str | None = None, url_of: Callable[[CalendarItem], str] | None = None,
                    refresh: dt.timedelta | None = None) -> bytes:
    """The items as one VCALENDAR. Items that are changed occurrences of a series in ``items``
    become its overrides; other items stand alone. ``refresh``: how often a subscriber should
    poll (a feed)."""
    items = list(items)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", name)
    if timezone:
        cal.add("x-wr-timezone", timezone)
    if refresh is not None:
        cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        cal["X-PUBLISHED-TTL"] = vDuration(refresh)  # the older name, Outlook's
    series = {item.id: item for item in items if item.rrule}
    overridden: dict[int, set[str]] = {}
    for item in items:
        if item.series_id in series and item.recurrence_key:
            overridden.setdefault(item.series_id, set()).add(item.recurrence_key)  # type: ignore[arg-type]
    for item in items:
        master = series.get(item.series_id) if item.series_id and item.recurrence_key else None  # type: ignore[arg-type]
        cal.add_component(component(item, now=now, master=master, overridden=overridden.get(item.id, set()),
                                    url=url_of(item) if url_of else None))
    if hasattr(cal, "add_missing_timezones"):  # icalendar 6.1+: a VTIMEZONE for every TZID used
        cal.add_missing_timezones()
    return cal.to_ical()


def component(item: CalendarItem, *, now: dt.datetime, master: CalendarItem | None = None,
              overridden: set[str] | frozenset[str] = frozenset(), url: str | None = None) -> Event | Todo:
    """One item as a VEVENT (a VTODO for a task); ``master``: the series it changes one
    occurrence of (its UID and a RECURRENCE-ID)."""
    tz = zone(item.tzid)
    part: Event | Todo = Todo() if item.kind == "task" else Event()
    part.add("uid", item_uid(master or item))
    stamp = item.updated_at or now
    part.add("dtstamp", stamp.astimezone(UTC))
    if item.created_at is not None:
        part.add("created", item.created_at.astimezone(UTC))
    if item.updated_at is not None:
        part.add("last-modified", item.updated_at.astimezone(UTC))
    part.add("summary", item.title)
    if item.kind == "task":
        part.add("due", item.start_date if item.all_day else item.start_at.astimezone(tz))  # type: ignore[union-attr]
        if item.done_at is not None:
            part.add("status", "COMPLETED")
            part.add("completed", item.done_at.astimezone(UTC))
            part.add("percent-complete", 100)
        else:
            part.add("status", "NEEDS-ACTION")
    elif item.all_day:
        part.add("dtstart", item.start_date)
        part.add("dtend", item.end_date + dt.timedelta(days=1))  # type: ignore[operator]
    else:
        start = item.start_at.astimezone(tz)  # type: ignore[union-attr]
        part.add("dtstart", start)
        part.add("dtend", item.end_at.astimezone(tz) if item.end_at is not None else start)
    if item.rrule:
        part.add("rrule", export_rule(item.rrule, item.all_day, tz))
        skipped = sorted(key for key in item.exdates or () if key not in overridden)
        if skipped:
            part.add("exdate", [moment(key, item.all_day, tz) for key in skipped])
    if master is not None:
        part.add("recurrence-id", moment(item.recurrence_key, master.all_day, zone(master.tzid)))  # type: ignore[arg-type]
    if item.location:
        part.add("location", item.location)
    if item.description:
        part.add("description", item.description)
    part.add("categories", [item.type])
    if item.private:
        part.add("class", "PRIVATE")
    if url:
        part.add("url", url)
    return part


def export_rule(rule: str, all_day: bool, tz: zoneinfo.ZoneInfo) -> vRecur:
    """A stored rule for the file: UNTIL, kept in wall time, as UTC (timed) or a date (all-day)."""
    recur = vRecur.from_ical(rule.removeprefix("RRULE:"))
    until = recur.get("UNTIL")
    if until:
        last = until[0]
        if all_day:
            recur["UNTIL"] = [last.date() if isinstance(last, dt.datetime) else last]
        elif isinstance(last, dt.datetime):
            recur["UNTIL"] = [to_utc(last, tz) if last.tzinfo is None else last.astimezone(UTC)]
        else:
            recur["UNTIL"] = [to_utc(dt.datetime.combine(last, dt.time(23, 59, 59)), tz)]
    return recur


def moment(key: str, all_day: bool, tz: zoneinfo.ZoneInfo) -> dt.date | dt.datetime:
    """An occurrence key as the EXDATE / RECURRENCE-ID value: a date, or the local time in ``tz``."""
    local = recurrence.parse_key(key)
    return local.date() if all_day else local.replace(tzinfo=tz)


# ---------------------------------------------------------------- import


@dataclasses.dataclass(frozen=True)
class Entry:
    """One VEVENT or VTODO of a file (``number`` counts them from 1): the item it would become
    (``data``) or why it cannot (``problem``). ``recurrence_id`` marks a changed occurrence of
    the series with the same UID; ``exdates`` are the series' skipped keys."""

    number: int
    uid: str | None
    title: str
    data: ItemData | None = None
    problem: TranslationString | None = None
    exdates: tuple[str, ...] = ()
    recurrence_id: dt.date | dt.datetime | None = None
    cancelled: bool = False
    done: bool = False


def read_calendar(content: bytes, default_tz: str) -> list[Entry]:
    """The events and tasks of an .ics file, read in the user's zone ``default_tz`` where the
    file names none. IcsTooLarge beyond ``MAX_BYTES`` / ``MAX_ITEMS``; IcsInvalid when the file
    is not iCalendar at all. A component that cannot be imported is an entry with a problem."""
    if len(content) > MAX_BYTES:
        raise IcsTooLarge(limit=MAX_ITEMS, size=MAX_BYTES // (1024 * 1024))
    text = _text(content)
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except (ValueError, TypeError, KeyError, IndexError):
        raise IcsInvalid(problem=_("its lines cannot be read as iCalendar")) from None
    if not calendars or any(cal.name != "VCALENDAR" for cal in calendars):
        raise IcsInvalid(problem=_("it has no BEGIN:VCALENDAR … END:VCALENDAR"))
    parts = [part for cal in calendars for part in cal.walk() if part.name in ("VEVENT", "VTODO")]
    if len(parts) > MAX_ITEMS:
        raise IcsTooLarge(limit=MAX_ITEMS, size=MAX_BYTES // (1024 * 1024))
    return [entry(number, part, default_tz) for number, part in enumerate(parts, start=1)]


def entry(number: int, part: Any, default_tz: str) -> Entry:
    """One component as an Entry; its problem, if any, is the first thing that stops it."""
    uid = _plain(part.get("UID")) or None
    title = _plain(part.get("SUMMARY"))
    recurrence_id = _value(part, "RECURRENCE-ID")
    base = Entry(number=number, uid=uid, title=title or "",
                 recurrence_id=recurrence_id if isinstance(recurrence_id, dt.date) else None,
                 cancelled=_plain(part.get("STATUS")).upper() == "CANCELLED")
    try:
        data, exdates = _item(part, title, default_tz)
    except KehuError as exc:
        return dataclasses.replace(base, problem=exc.translation_string)
    done = part.name == "VTODO" and (_plain(part.get("STATUS")).upper() == "COMPLETED" or "COMPLETED" in part)
    return dataclasses.replace(base, data=data, exdates=exdates, done=done)


def local_key(value: dt.date | dt.datetime, tzid: str, all_day: bool, start: dt.datetime) -> str:
    """The occurrence key a file's EXDATE / RECURRENCE-ID names, in a series entered in
    ``tzid`` starting at local ``start``."""
    if all_day:
        return recurrence.key(dt.datetime.combine(_day(value), dt.time()), True)
    if not isinstance(value, dt.datetime):
        return recurrence.key(dt.datetime.combine(value, start.time()))
    return recurrence.key(wall(value, zone(tzid)) if value.tzinfo is not None else value)


def _item(part: Any, title: str, default_tz: str) -> tuple[ItemData, tuple[str, ...]]:
    task = part.name == "VTODO"
    field = "DUE" if task and "DUE" in part else "DTSTART"
    first = _value(part, field)
    if first is None:
        raise StartRequired()
    if not isinstance(first, dt.date):
        raise DateUnreadable(field=field, value=str(first)[:40])
    fields: dict[str, Any] = {
        "title": title[:LIMITS["title"]], "kind": "task" if task else "event",
        "type": "other" if task else _type(part), "location": _plain(part.get("LOCATION"))[:LIMITS["location"]],
        "description": _plain(part.get("DESCRIPTION"))[:LIMITS["description"]],
        "private": _plain(part.get("CLASS")).upper() in ("PRIVATE", "CONFIDENTIAL"), "reminders": _alarms(part)}
    if not isinstance(first, dt.datetime):
        last = first if task else _last_day(part, first)
        fields.update(all_day=True, tzid=_zone_name(default_tz), start_date=first, end_date=last)
        start = dt.datetime.combine(first, dt.time())
    else:
        tzid, start = _placed(first, part[field].params.get("TZID"), default_tz)
        fields.update(tzid=tzid, start=start, end=None if task else _end(part, start, tzid))
    rule = _rule(part, fields.get("all_day", False), fields["tzid"])
    fields["rrule"] = rule
    exdates: tuple[str, ...] = ()
    if rule:
        exdates = tuple(sorted({local_key(value, fields["tzid"], fields.get("all_day", False), start)
                                for value in _values(part, "EXDATE")}))
    return ItemData(**fields), exdates


def _placed(value: dt.datetime, tzid: str | None, default_tz: str) -> tuple[str, dt.datetime]:
    """The zone an imported time is kept in and its wall time there."""
    fallback = _zone_name(default_tz)
    if value.tzinfo is None:  # floating, or a TZID nobody knows: the user's wall time
        return fallback, value.replace(second=0, microsecond=0)
    named = getattr(value.tzinfo, "key", None)
    if tzid and named and _known(named) and named != "UTC":
        return named, wall(value, zone(named)).replace(second=0, microsecond=0)
    return fallback, wall(value, zone(fallback)).replace(second=0, microsecond=0)  # UTC, custom VTIMEZONE


def _end(part: Any, start: dt.datetime, tzid: str) -> dt.datetime:
    end = _value(part, "DTEND")
    if isinstance(end, dt.datetime):
        return wall(end, zone(tzid)) if end.tzinfo is not None else end
    if isinstance(end, dt.date):
        return dt.datetime.combine(end, dt.time())
    duration = _value(part, "DURATION")
    if isinstance(duration, dt.timedelta):
        return start + duration
    return start  # RFC 5545: a DATE-TIME start without an end or duration is a moment


def _last_day(part: Any, first: dt.date) -> dt.date:
    """The inclusive last day of an all-day event (DTEND is exclusive)."""
    end = _value(part, "DTEND")
    if isinstance(end, dt.date):
        return max(first, _day(end) - dt.timedelta(days=1))
    duration = _value(part, "DURATION")
    if isinstance(duration, dt.timedelta) and duration.days > 0:
        return first + dt.timedelta(days=duration.days - 1)
    return first


def _rule(part: Any, all_day: bool, tzid: str) -> str | None:
    """The file's RRULE as stored: UNTIL in wall time (the series' zone), at most daily."""
    value = part.get("RRULE")
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0]
    if not isinstance(value, vRecur):
        raise RepeatInvalid(problem=_("the rule cannot be read"))
    recur = vRecur({name: list(values) for name, values in value.items()})
    until = recur.get("UNTIL")
    if until:
        last = until[0]
        if isinstance(last, dt.datetime) and last.tzinfo is not None and not all_day:
            last = wall(last, zone(tzid))
        elif not isinstance(last, dt.datetime) or all_day:
            last = dt.datetime.combine(_day(last), dt.time(23, 59, 59))
        recur["UNTIL"] = [last.replace(tzinfo=None)]
    text = recur.to_ical().decode()
    if len(text) > MAX_RULE:
        raise RepeatInvalid(problem=_("the rule is too long"))
    return text


def _type(part: Any) -> str:
    for value in _values(part, "CATEGORIES", text=True):
        found = CATEGORY_TYPES.get(str(value).strip().lower())
        if found:
            return found
    return "other"


def _alarms(part: Any) -> tuple[int, ...]:
    """Reminders from VALARMs with a trigger before the start (others are left out)."""
    minutes = set()
    for alarm in part.walk("VALARM"):
        try:
            trigger = alarm.decoded("TRIGGER")
        except (KeyError, ValueError, TypeError):
            continue
        if isinstance(trigger, dt.timedelta) and trigger <= dt.timedelta():
            before = int(-trigger.total_seconds() // 60)
            if before <= MAX_REMINDER_MINUTES:
                minutes.add(before)
    return tuple(sorted(minutes)[:MAX_REMINDERS])


def _value(part: Any, name: str) -> Any:
    """A property's Python value (date, datetime, timedelta), its raw text when broken, or None."""
    if name not in part:
        return None
    prop = part[name]
    if isinstance(prop, list):
        prop = prop[0]
    try:  # a broken property (icalendar 7's vBroken) refuses its value with a ValueError
        value = getattr(prop, "dt", None)
        return value if value is not None else part.decoded(name)
    except (KeyError, ValueError, TypeError):
        return _plain(prop)


def _values(part: Any, name: str, text: bool = False) -> list[Any]:
    """Every value of a repeatable list property (EXDATE, CATEGORIES)."""
    found = part.get(name)
    if found is None:
        return []
    props = found if isinstance(found, list) else [found]
    values: list[Any] = []
    for prop in props:
        try:
            if text:
                values.extend(getattr(prop, "cats", None) or [prop])
            else:
                values.extend(d.dt for d in getattr(prop, "dts", ()) if isinstance(d.dt, dt.date))
        except ValueError:  # a broken value is left out
            continue
    return values


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _known(name: str) -> bool:
    try:
        zone(name)
    except UnknownZone:
        return False
    return True


def _zone_name(name: str) -> str:
    return name if _known(name) else "Asia/Shanghai"


def _text(content: bytes) -> str:
    """The file as text: UTF-8 (with or without BOM), else GB18030 (older Chinese exports)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IcsInvalid(problem=_("it is not text in UTF-8"))
