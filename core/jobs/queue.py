"""The job queue: enqueue, claim, finish, recover, and the administrator's retry and cancel.

Exactly once, on any number of workers:

* **Claim.** On PostgreSQL a worker picks the next due row with ``FOR UPDATE SKIP LOCKED`` and
  marks it ``running`` (``locked_by``, ``attempts + 1``, a lease in ``locked_until``) in one
  short, committed transaction: two workers never pick one row. On SQLite (one writer at a
  time) the same happens in a single conditional ``UPDATE … WHERE id = (SELECT …) AND
  state = 'queued' RETURNING``.
* **Fence.** The handler runs in its own transaction, and that transaction ends with
  ``complete()``: an ``UPDATE`` that succeeds only while the row still holds this claim's
  ``locked_by`` and ``attempts``. If the lease expired and another worker took the job over,
  the update finds no row and the whole transaction, the handler's writes included, is rolled
  back. Database work of a job therefore commits once, even when a worker stalls past its lease.
* **Lease.** A worker killed mid-job (SIGKILL, power loss) commits nothing; once its lease
  is over, ``recover_expired_leases()`` puts the job back to ``queued`` (the attempt counted),
  so it is retried, never lost.

Effects outside the database (an e-mail, a webhook) can repeat when a worker dies between the
effect and the commit: handlers of such jobs should be idempotent (a dedupe key on their side).
Clocks come in as ``now`` arguments; workers on several machines need synchronised clocks
(NTP) only for *when* jobs become due and leases expire, not for exactly-once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit.services import write_audit
from core.context import Ctx
from core.db import UTCDateTime, utcnow
from core.jobs.exceptions import JobNotCancellable, JobNotFound, JobNotRetryable
from core.jobs.models import CANCELLED, DEAD, DONE, QUEUED, RUNNING, STATES, Job

DEFAULT_MAX_ATTEMPTS = 5
BACKOFF_BASE = dt.timedelta(seconds=10)
BACKOFF_CAP = dt.timedelta(hours=1)
#: What ``last_error`` says when a worker's lease ran out (it died, or hangs in the handler).
LEASE_EXPIRED = ("Lease expired: worker ", " stopped answering (killed, or the job overran its timeout)")
PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class Claim:
    """A job a worker has claimed: what to run, and the fence (``worker_id``, ``attempt``)
    its end must still match."""

    id: int
    name: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    worker_id: str
    locked_until: dt.datetime


def enqueue(
    ctx: Ctx,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: dt.datetime | None = None,
    max_attempts: int | None = None,
    dedupe_key: str | None = None,
) -> Job | None:
    """Add a job in the caller's transaction: workers see it only once the caller commits.

    ``max_attempts`` defaults to the handler's (``kehu_job_handlers``). With a ``dedupe_key``
    already in the table nothing is added and None is returned, also when another transaction
    adds the same key at the same moment (it waits for that one, then yields)."""
    values = {
        "name": name,
        "payload": payload or {},
        "state": QUEUED,
        "attempts": 0,
        "max_attempts": max_attempts or _handler_max_attempts(ctx, name),
        "run_at": run_at or ctx.now,
        "dedupe_key": dedupe_key,
        "last_error": "",
        "created_at": ctx.now,
    }
    session = ctx.dbsession
    if dedupe_key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(Job).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        job_id = session.execute(statement.returning(Job.id)).scalar_one_or_none()
        return None if job_id is None else session.get(Job, job_id)
    try:  # any other database: a savepoint, so the caller's transaction survives the duplicate
        with session.begin_nested():
            job = Job(**values)
            session.add(job)
    except IntegrityError:
        return None
    return job


def _handler_max_attempts(ctx: Ctx, name: str) -> int:
    for batch in ctx.hooks.kehu_job_handlers():
        for handler in batch or ():
            if handler.name == name:
                return handler.max_attempts
    return DEFAULT_MAX_ATTEMPTS


def claim_next(
    session: Session,
    worker_id: str,
    lease: dt.timedelta | Callable[[str], dt.timedelta],
    *,
    now: dt.datetime | None = None,
) -> Claim | None:
    """Mark the next due job ``running`` for ``worker_id`` and commit at once; None when no
    job is due. ``lease`` may depend on the job's name (its handler's timeout)."""
    now = now or utcnow()
    lease_of = lease if callable(lease) else (lambda _name: lease)
    due = select(Job.id).where(Job.state == QUEUED, Job.run_at <= now).order_by(Job.run_at, Job.id).limit(1)
    claimed = (Job.id, Job.name, Job.payload, Job.attempts, Job.max_attempts)
    mark = {"state": RUNNING, "locked_by": worker_id, "started_at": now, "finished_at": None,
            "attempts": Job.attempts + 1}
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.execute(due.with_for_update(skip_locked=True)).scalar_one_or_none()
        if job_id is None:
            session.commit()
            return None
        row = session.execute(update(Job).where(Job.id == job_id).values(**mark).returning(*claimed)).one()
    else:
        # SQLite: a write first, so the transaction takes the one write lock before it reads;
        # the state test makes a claim that lost a race (another process) claim nothing.
        row = session.execute(
            update(Job).where(Job.id == due.scalar_subquery(), Job.state == QUEUED)
            .values(**mark).returning(*claimed)
        ).one_or_none()
        if row is None:
            session.commit()
            return None
    locked_until = now + lease_of(row.name)
    session.execute(update(Job).where(Job.id == row.id).values(locked_until=locked_until))
    session.commit()
    return Claim(id=row.id, name=row.name, payload=row.payload or {}, attempt=row.attempts,
                 max_attempts=row.max_attempts, worker_id=worker_id, locked_until=locked_until)


def _fenced(claim: Claim) -> Any:
    """The claim still holds the row: same worker, same attempt, still running."""
    return update(Job).where(Job.id == claim.id, Job.state == RUNNING, Job.locked_by == claim.worker_id,
                             Job.attempts == claim.attempt)


def complete(session: Session, claim: Claim, *, now: dt.datetime | None = None) -> bool:
    """Mark the job done, in the handler's transaction. False when the claim was lost (the
    lease expired and the job was recovered): the caller must then roll back."""
    result = session.execute(_fenced(claim).values(state=DONE, finished_at=now or utcnow(), locked_until=None,
                                                   last_error=""))
    return result.rowcount == 1


def backoff(attempt: int, *, jitter: Callable[[], float] = random.random) -> dt.timedelta:
    """10 s × 2^(attempt-1), at most an hour, plus up to 10 % jitter so retries spread out."""
    delay = min(BACKOFF_BASE * 2 ** max(attempt - 1, 0), BACKOFF_CAP)
    return delay * (1 + 0.1 * jitter())


def fail(session: Session, claim: Claim, error: str, *, now: dt.datetime | None = None,
         final: bool = False) -> str | None:
    """Record a failed attempt: queued again after ``backoff()``, or ``dead`` once the attempts
    are used up (at once with ``final``). Returns the new state, None if the claim was lost."""
    now = now or utcnow()
    if final or claim.attempt >= claim.max_attempts:
        values: dict[str, Any] = {"state": DEAD, "finished_at": now}
    else:
        values = {"state": QUEUED, "run_at": now + backoff(claim.attempt)}
    result = session.execute(_fenced(claim).values(locked_until=None, last_error=error, **values))
    return values["state"] if result.rowcount == 1 else None


def recover_expired_leases(session: Session, *, now: dt.datetime | None = None) -> int:
    """Put running jobs whose lease is over (their worker died or hangs) back to ``queued``,
    or ``dead`` when that was their last attempt; commits. Returns how many.

    One statement: on PostgreSQL a job being finished meanwhile holds its row lock, and this
    update re-reads the row after that commit and leaves a finished job alone."""
    now = now or utcnow()
    used_up = Job.attempts >= Job.max_attempts
    result = session.execute(
        update(Job).where(Job.state == RUNNING, Job.locked_until < now)
        .values(state=case((used_up, DEAD), else_=QUEUED),
                run_at=now,
                finished_at=case((used_up, literal(now, UTCDateTime())), else_=None),
                locked_until=None,
                last_error=literal(LEASE_EXPIRED[0]) + Job.locked_by + literal(LEASE_EXPIRED[1]))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount


def get_job(ctx: Ctx, job_id: int) -> Job:
    ctx.access.require("core.job:read")
    job = ctx.dbsession.get(Job, job_id)
    if job is None:
        raise JobNotFound(id=job_id)
    return job


def retry_job(ctx: Ctx, job_id: int) -> Job:
    """Queue a dead or cancelled job again, now, with all its attempts. Audited."""
    ctx.access.require("core.job:write")
    job = get_job(ctx, job_id)
    before = job.state
    result = ctx.dbsession.execute(
        update(Job).where(Job.id == job_id, Job.state.in_((DEAD, CANCELLED)))
        .values(state=QUEUED, run_at=ctx.now, attempts=0, finished_at=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    ctx.dbsession.refresh(job)
    if result.rowcount != 1:
        raise JobNotRetryable(id=job_id, state=job.state)
    write_audit(ctx, "update", model=Job.__tablename__, record_id=job.id,
                changes={"state": [before, QUEUED]}, detail=f"retry {job.name}")
    return job


def cancel_job(ctx: Ctx, job_id: int) -> Job:
    """Cancel a queued job (also one waiting to be retried); a running job cannot be stopped.
    Audited."""
    ctx.access.require("core.job:write")
    job = get_job(ctx, job_id)
    result = ctx.dbsession.execute(
        update(Job).where(Job.id == job_id, Job.state == QUEUED)
        .values(state=CANCELLED, finished_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    ctx.dbsession.refresh(job)
    if result.rowcount != 1:
        raise JobNotCancellable(id=job_id, state=job.state)
    write_audit(ctx, "update", model=Job.__tablename__, record_id=job.id,
                changes={"state": [QUEUED, CANCELLED]}, detail=f"cancel {job.name}")
    return job


def job_counts(ctx: Ctx) -> dict[str, int]:
    """How many jobs are in each state (every state present, zeros included)."""
    ctx.access.require("core.job:read")
    counts = dict.fromkeys(STATES, 0)
    for state, count in ctx.dbsession.execute(select(Job.state, func.count()).group_by(Job.state)):
        counts[state] = count
    return counts


def list_jobs(ctx: Ctx, state: str | None = None, before_id: int | None = None, *,
              limit: int = PAGE_SIZE) -> list[Job]:
    """Jobs newest first, of one state or all, ``limit`` a page, keyset by id (``before_id``)."""
    ctx.access.require("core.job:read")
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Job.state == state)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    return list(ctx.dbsession.scalars(query))
