"""Errors an administrator can meet on the jobs page or ``kehu jobs``."""

from __future__ import annotations

from core.exceptions import KehuError, NotFound
from core.i18n import _


class JobNotFound(NotFound):
    message = _("There is no job ${id}.")


class JobNotRetryable(KehuError):
    message = _("Job ${id} is ${state}: only a failed or cancelled job can be retried.")


class JobNotCancellable(KehuError):
    message = _("Job ${id} is ${state}: only a queued job can be cancelled.")


class DuplicateJobHandler(KehuError):
    message = _("Two handlers are declared for job ${name} (kehu_job_handlers or kehu_periodic_jobs).")
