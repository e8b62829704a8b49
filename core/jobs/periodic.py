"""Periodic jobs declared by installed addons through ``kehu_periodic_jobs``.

The worker that runs them arrives with the platform-services issue; collecting and validating
the declarations lives here now so a wrong cron expression or a duplicate name fails early.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.contributions import PeriodicJob
from core.exceptions import KehuError
from core.i18n import _

_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


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
