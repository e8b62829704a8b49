"""Time zones of the calendar: times are entered and shown in the reader's zone and stored in
UTC; an all-day item is a run of calendar days that no zone shifts.

An all-day item's search span is widened by the widest offsets there are (UTC−12 … UTC+14), so
the indexed range never misses it for any reader; the exact test is by dates.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .exceptions import UnknownZone

#: The widest distance of a local midnight from UTC midnight.
ALL_DAY_PAD = dt.timedelta(hours=14)
UTC = dt.UTC


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone named ``name`` (IANA), or UnknownZone."""
    try:
        if not name or ("/" not in name and name != "UTC"):
            raise ValueError(name)
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UnknownZone(timezone=name or "") from None


def to_utc(local: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """A wall time in ``tz`` (naive) as aware UTC. A wall time that does not exist (the hour
    skipped when clocks go forward) is read with the offset before the change, i.e. an hour
    later in the new time: 02:30 becomes 03:30."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=tz).astimezone(UTC)


def wall(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The naive wall time of an aware moment in ``tz``."""
    return moment.astimezone(tz).replace(tzinfo=None)


def day_span(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC span that holds the days ``first`` … ``last`` in every zone."""
    start = dt.datetime.combine(first, dt.time(), UTC) - ALL_DAY_PAD
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), UTC) + ALL_DAY_PAD
    return start, end


def day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC start and end of ``day`` in ``tz`` (23 or 25 hours on a change of clocks)."""
    return (to_utc(dt.datetime.combine(day, dt.time()), tz),
            to_utc(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), tz))
