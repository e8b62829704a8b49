"""Periodic jobs declared by installed addons through ``kehu_periodic_jobs``.

Collecting and validating the declarations fails early on a wrong cron expression or a
duplicate name. Each worker, once a minute, works out the most recent start of every job's
period (looking back at most a day) and enqueues one ordinary job named after the periodic job
with the dedupe key ``<name>@<period start>``: whichever worker comes first adds it, the others
add nothing, so a period runs once across all workers. A period missed while no worker ran is
caught up once (if it began less than a day ago); older ones are skipped.

Cron expressions are read in the installation's time zone (``kehu.timezone``, default
Asia/Shanghai, as users' default): ``0 2 * * *`` is 02:00 there.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING

from core.contributions import PeriodicJob
from core.exceptions import KehuError
from core.i18n import _

if TYPE_CHECKING:
    from core.context import Ctx
    from core.jobs.models import Job

_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: How far back a worker looks for a period start it has not enqueued yet.
LOOK_BACK = dt.timedelta(hours=24)
#: A failed periodic run is retried a few times; the next period runs anyway.
PERIODIC_MAX_ATTEMPTS = 3


class InvalidPeriodicJob(KehuError):
    message = _("Periodic job ${name}: ${problem}")


def collect_periodic_jobs(hook_results: Iterable[list[PeriodicJob]]) -> dict[str, PeriodicJob]:
    jobs: dict[str, PeriodicJob] = {}
    for batch in hook_results:
        for job in batch or ():
            if job.name in jobs:
                raise InvalidPeriodicJob(name=job.name, problem="declared twice")
            validate_cron(job.name, job.cron)
            jobs[job.name] = job
    return jobs


def validate_cron(name: str, cron: str) -> None:
    """Five fields (minute hour day month weekday) of ``*``, ``*/n``, numbers, ranges, lists."""
    fields = cron.split()
    if len(fields) != 5:
        raise InvalidPeriodicJob(name=name, problem=f"“{cron}” needs 5 fields")
    for field, (low, high) in zip(fields, _FIELD_RANGES, strict=True):
        for part in field.split(","):
            base, _sep, step = part.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                raise InvalidPeriodicJob(name=name, problem=f"bad step in “{cron}”")
            if base == "*":
                continue
            bounds = base.split("-")
            if len(bounds) > 2 or not all(b.isdigit() and low <= int(b) <= high for b in bounds):
                raise InvalidPeriodicJob(name=name, problem=f"“{part}” is out of range in “{cron}”")


def installation_timezone(settings: Mapping[str, object]) -> dt.tzinfo:
    name = str(settings.get("kehu.timezone") or DEFAULT_TIMEZONE)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


class CronSchedule:
    """A validated five-field cron expression, matched minute by minute.

    As in cron, when both day of month and day of week are restricted a day matches either;
    weekday 0 and 7 are Sunday."""

    def __init__(self, cron: str) -> None:
        validate_cron(cron, cron)
        fields = cron.split()
        self.minutes, self.hours, self.days, self.months, weekdays = (
            _expand(field, low, high) for field, (low, high) in zip(fields, _FIELD_RANGES, strict=True))
        self.weekdays = {day % 7 for day in weekdays}
        self.any_day = fields[2] == "*"
        self.any_weekday = fields[4] == "*"

    def matches(self, local: dt.datetime) -> bool:
        if local.minute not in self.minutes or local.hour not in self.hours or local.month not in self.months:
            return False
        day_ok = local.day in self.days
        weekday_ok = (local.weekday() + 1) % 7 in self.weekdays  # cron: Sunday is 0
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def latest_start(self, now: dt.datetime, tz: dt.tzinfo, *, look_back: dt.timedelta = LOOK_BACK
                     ) -> dt.datetime | None:
        """The latest minute at or before ``now`` that matches (in UTC), or None within ``look_back``."""
        minute = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
        earliest = minute - look_back
        while minute > earliest:
            if self.matches(minute.astimezone(tz)):
                return minute
            minute -= dt.timedelta(minutes=1)
        return None


def _expand(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        base, _sep, step = part.partition("/")
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            first, last = base.split("-")
            start, stop = int(first), int(last)
        else:
            start = int(base)
            stop = high if step else start  # "5/15": from 5 to the end, every 15
        values.update(range(start, stop + 1, int(step) if step else 1))
    return values


def periodic_dedupe_key(name: str, period_start: dt.datetime) -> str:
    return f"{name}@{period_start.astimezone(dt.UTC).isoformat()}"


def enqueue_due_periodic_jobs(
    ctx: Ctx,
    jobs: Mapping[str, PeriodicJob],
    now: dt.datetime,
    *,
    tz: dt.tzinfo | None = None,
    attempted: MutableMapping[str, dt.datetime] | None = None,
) -> list[Job]:
    """Enqueue the current period of every job in ``jobs`` unless it already is; returns the
    jobs this call added (a period another worker enqueued first is not among them).

    ``tz`` defaults to the installation's time zone. ``attempted`` (kept by a worker between
    calls) remembers the period start last tried per job, so a worker asks the database
    about each period once."""
    from core.jobs.queue import enqueue

    tz = tz or installation_timezone(ctx.settings)
    added = []
    for name, job in sorted(jobs.items()):
        start = CronSchedule(job.cron).latest_start(now, tz)
        if start is None or (attempted is not None and attempted.get(name) == start):
            continue
        row = enqueue(ctx, name, {}, run_at=start, max_attempts=PERIODIC_MAX_ATTEMPTS,
                      dedupe_key=periodic_dedupe_key(name, start))
        if row is not None:
            added.append(row)
        if attempted is not None:
            attempted[name] = start
    return added
