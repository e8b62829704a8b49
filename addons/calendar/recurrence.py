"""Repeating items (RFC 5545 RRULE through python-dateutil): the rules the form builds, their
expansion within a window, and the cuts that the edit modes make.

A rule is kept as RRULE text in the item's wall time (``tzid``), so it expands to the same local
times across daylight-saving changes. A rule may have no end: it is expanded only inside the
window being looked at, and never more than ``WINDOW_CAP`` times there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterable

from dateutil.rrule import rrulestr

from core.i18n import _

from .exceptions import RepeatInvalid

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_INTERVAL = 99
MAX_COUNT = 999
#: Occurrences one series shows at most in one window (a daily series in a 42-day month grid
#: needs 42); a bigger window is cut here rather than filling a page without end.
WINDOW_CAP = 400
#: A series with more occurrences than this (to its UNTIL) is treated as endless for its span.
SPAN_CAP = 5000
_KEY_TIMED, _KEY_DAY = "%Y-%m-%dT%H:%M", "%Y-%m-%d"


@dataclasses.dataclass(frozen=True)
class Repeat:
    """What the form asks: every ``interval`` days / weeks / months / years, on ``weekdays``
    (weekly), until a date or ``count`` times (or neither: no end)."""

    freq: str
    interval: int = 1
    weekdays: tuple[str, ...] = ()
    until: dt.date | None = None
    count: int | None = None

    def rule(self) -> str:
        """The RRULE text, checked."""
        if self.freq not in FREQUENCIES:
            raise RepeatInvalid(problem=_("unknown frequency"))
        if not 1 <= self.interval <= MAX_INTERVAL:
            raise RepeatInvalid(problem=_("the interval is from 1 to ${limit}", mapping={"limit": MAX_INTERVAL}))
        if self.until is not None and self.count is not None:
            raise RepeatInvalid(problem=_("give an end date or a number of times, not both"))
        if self.count is not None and not 1 <= self.count <= MAX_COUNT:
            raise RepeatInvalid(problem=_("the number of times is from 1 to ${limit}", mapping={"limit": MAX_COUNT}))
        if any(day not in WEEKDAYS for day in self.weekdays):
            raise RepeatInvalid(problem=_("unknown weekday"))
        parts = {"FREQ": self.freq}
        if self.interval != 1:
            parts["INTERVAL"] = str(self.interval)
        if self.weekdays and self.freq == "WEEKLY":
            parts["BYDAY"] = ",".join(day for day in WEEKDAYS if day in self.weekdays)
        if self.until is not None:
            parts["UNTIL"] = self.until.strftime("%Y%m%dT235959")
        if self.count is not None:
            parts["COUNT"] = str(self.count)
        return _join(parts)


def describe(rule: str | None) -> Repeat | None:
    """The form's view of a rule (None when the item does not repeat). A rule imported with
    parts the form does not offer keeps them; the form shows what it can."""
    if not rule:
        return None
    parts = _parts(rule)
    until = parts.get("UNTIL")
    return Repeat(freq=parts.get("FREQ", ""), interval=int(parts.get("INTERVAL", "1")),
                  weekdays=tuple(day for day in parts.get("BYDAY", "").split(",") if day in WEEKDAYS),
                  until=dt.datetime.strptime(until[:8], "%Y%m%d").date() if until else None,
                  count=int(parts["COUNT"]) if "COUNT" in parts else None)


def check(rule: str, start: dt.datetime) -> str:
    """``rule`` if dateutil reads it and it repeats at most daily; RepeatInvalid otherwise.
    Imported rules come here too: an hourly series would fill every window."""
    parts = _parts(rule)
    if parts.get("FREQ") not in FREQUENCIES:
        raise RepeatInvalid(problem=_("repeat daily, weekly, monthly or yearly"))
    if "COUNT" in parts and not (parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= MAX_COUNT):
        raise RepeatInvalid(problem=_("the number of times is from 1 to ${limit}", mapping={"limit": MAX_COUNT}))
    try:
        first = next(iter(_rule(rule, start)), None)
    except (ValueError, TypeError, KeyError, IndexError):
        raise RepeatInvalid(problem=_("the rule cannot be read")) from None
    if first is None:
        raise RepeatInvalid(problem=_("the series has no occurrence"))
    return _join(parts)


def starts_between(rule: str, start: dt.datetime, after: dt.datetime, before: dt.datetime,
                   skip: Iterable[str] = (), all_day: bool = False) -> list[dt.datetime]:
    """The local starts of the series from ``start`` that fall in [after, before], at most
    ``WINDOW_CAP``, without the keys in ``skip``."""
    skipped = set(skip)
    found = []
    for occurrence in itertools.islice(_rule(rule, start).xafter(after, inc=True), WINDOW_CAP + len(skipped)):
        if occurrence > before:
            break
        if key(occurrence, all_day) not in skipped:
            found.append(occurrence)
        if len(found) >= WINDOW_CAP:
            break
    return found


def next_start(rule: str | None, start: dt.datetime, after: dt.datetime, skip: Iterable[str] = (),
               all_day: bool = False, inclusive: bool = True) -> dt.datetime | None:
    """The first local start at or after ``after`` that is not skipped (the series' first
    start for a single item when it is not before ``after``)."""
    if not rule:
        return start if (start >= after if inclusive else start > after) else None
    skipped = set(skip)
    for occurrence in itertools.islice(_rule(rule, start).xafter(after, inc=inclusive), SPAN_CAP):
        if key(occurrence, all_day) not in skipped:
            return occurrence
    return None


def last_start(rule: str, start: dt.datetime) -> dt.datetime | None:
    """The series' last local start, or None for a series without end (or one too long to
    walk, which is treated alike)."""
    parts = _parts(rule)
    if "COUNT" not in parts and "UNTIL" not in parts:
        return None
    last = None
    for index, occurrence in enumerate(_rule(rule, start)):
        if index >= SPAN_CAP:
            return None
        last = occurrence
    return last


def occurs_at(rule: str, start: dt.datetime, local: dt.datetime) -> bool:
    """Whether the series has an occurrence starting at ``local``."""
    return next_start(rule, start, local) == local


def cut_before(rule: str, start: dt.datetime, at: dt.datetime) -> str | None:
    """The rule ended just before the occurrence at ``at`` ("this and following" moves those
    to a new series); None when no occurrence would be left."""
    if at <= start:
        return None
    parts = _parts(rule)
    parts.pop("COUNT", None)
    parts["UNTIL"] = (at - dt.timedelta(seconds=1)).strftime("%Y%m%dT%H%M%S")
    return _join(parts)


def rest_from(rule: str, start: dt.datetime, at: dt.datetime) -> str:
    """The rule of the occurrences from ``at`` on, as a series starting there: a count is
    reduced by the occurrences before ``at``."""
    parts = _parts(rule)
    if "COUNT" in parts:
        before = sum(1 for _occurrence in itertools.takewhile(lambda o: o < at, _rule(rule, start)))
        parts["COUNT"] = str(max(1, int(parts["COUNT"]) - before))
    return _join(parts)


def key(local_start: dt.datetime, all_day: bool = False) -> str:
    """The occurrence key: its local start (minutes), or date for an all-day item."""
    return local_start.strftime(_KEY_DAY if all_day else _KEY_TIMED)


def parse_key(text: str) -> dt.datetime:
    """The local start an occurrence key names; ValueError for a malformed key."""
    return dt.datetime.strptime(text, _KEY_TIMED if "T" in text else _KEY_DAY)


def shift_keys(keys: Iterable[str], delta: dt.timedelta, all_day: bool) -> list[str]:
    """The skipped keys of a series whose start moved by ``delta`` (a whole-series edit)."""
    return [key(parse_key(text) + delta, all_day) for text in keys]


def _rule(rule: str, start: dt.datetime):
    return rrulestr(rule, dtstart=start, ignoretz=True)


def _parts(rule: str) -> dict[str, str]:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise RepeatInvalid(problem=_("the rule cannot be read"))
        parts[name.strip().upper()] = value.strip().upper()
    if parts.get("UNTIL", "").endswith("Z"):  # kept in wall time, like the series' start
        parts["UNTIL"] = parts["UNTIL"][:-1]
    return parts


def _join(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={value}" for name, value in parts.items())
