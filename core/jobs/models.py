"""The job queue's one table. A job is a row; its ``state`` moves

    queued ──claim──▶ running ──▶ done
      ▲                  │
      └── fail / lease ──┤ (a failure with attempts left is "queued" again, with a later run_at)
                         └──▶ dead (attempts used up; an administrator may retry it)
    queued ──cancel──▶ cancelled (may be retried too)

``locked_by`` and ``attempts`` together fence a run: a worker finishes a job only while both
still hold the values its claim wrote (see ``core.jobs.queue``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.i18n import _

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
DEAD = "dead"
CANCELLED = "cancelled"
STATES = (QUEUED, RUNNING, DONE, DEAD, CANCELLED)


class Job(Base):
    """One unit of background work, run once by one worker (or retried, then dead)."""

    __tablename__ = "core_job"
    __table_args__ = (
        # The claim: WHERE state='queued' AND run_at <= now ORDER BY run_at, id; lease recovery
        # reads the few 'running' rows through the same index.
        Index("ix_core_job_state_run_at", "state", "run_at", "id"),
        # The admin page: one state, newest first, keyset by id.
        Index("ix_core_job_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), info={"label": _("Job")})
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, info={"label": _("State")})
    attempts: Mapped[int] = mapped_column(Integer, default=0, info={"label": _("Attempts")})
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, info={"label": _("Run at")})
    #: The worker that claimed the job last ("host:pid:n"); kept after the run, for the record.
    locked_by: Mapped[str | None] = mapped_column(String(128), default=None)
    #: The claim's lease: past it, the worker is taken for dead and the job is queued again.
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None,
                                                            info={"label": _("Finished")})
    #: The last failure, traceback included: for administrators, never shown to other users.
    last_error: Mapped[str] = mapped_column(Text, default="", info={"label": _("Last error")})
    #: Enqueueing a key twice adds nothing: periodic runs use "<name>@<period start>".
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def error_summary(self) -> str:
        """The first line of ``last_error``: what went wrong, without the traceback below it."""
        return self.last_error.strip().split("\n", 1)[0].strip()
