"""The worker: claims due jobs one at a time and runs each in its own transaction, as the system.

``kehu worker`` runs one (or ``--concurrency`` threads of it) on any number of machines; under
``kehu serve``/``kehu demo`` on SQLite one runs in a thread of the web process
(``start_in_process_worker``). Besides running jobs each worker, now and then, puts back the
jobs of dead workers (``recover_expired_leases``) and enqueues due periodic jobs; both are
safe to do from every worker at once.

Timeouts. A handler runs in the worker's own thread: Python cannot interrupt a thread, and
signals (SIGALRM) reach only the main thread, so none are used. Instead:

* the claim's lease is the handler's ``timeout_seconds`` plus ``lease_margin``: past it, any
  worker takes this one for dead and queues the job again, so a hung or killed worker delays
  a job by at most its timeout plus the margin, and never loses it;
* a run that returns after its timeout is rolled back and counted as a failed attempt;
* the fence in ``core.jobs.queue.complete`` rolls back a run whose job was recovered meanwhile,
  so its database writes never commit twice;
* on PostgreSQL the run's transaction gets ``statement_timeout`` = the job's timeout, so the
  server cancels a runaway query.

The lease covers the whole timeout, so no heartbeat is needed; the price is that a job of a
killed worker waits up to ``timeout_seconds + lease_margin`` before it is retried.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from core.addons.catalog import AddonCatalog
from core.addons.runtime import AddonRuntime, InstalledState
from core.context import Ctx
from core.contributions import JobHandler, PeriodicJob
from core.db import utcnow
from core.jobs.exceptions import DuplicateJobHandler
from core.jobs.periodic import (
    PERIODIC_MAX_ATTEMPTS,
    collect_periodic_jobs,
    enqueue_due_periodic_jobs,
    installation_timezone,
)
from core.jobs.queue import Claim, claim_next, complete, fail, recover_expired_leases
from core.plugins import HookRelay

log = logging.getLogger("kehu.jobs")

DEFAULT_LEASE_MARGIN = dt.timedelta(seconds=30)
#: The lease of a job without a handler: it is only marked dead.
UNKNOWN_JOB_LEASE = dt.timedelta(seconds=60)
MAX_ERROR_LENGTH = 20_000
_HANDLERS_KEY = "kehu.jobs.handlers"


class JobTimedOut(Exception):
    """The handler returned after its ``timeout_seconds``: its work is rolled back."""


class ClaimLost(Exception):
    """The lease ran out and another worker took the job over: this run is rolled back."""


def collect_job_handlers(hooks: HookRelay) -> tuple[dict[str, JobHandler], dict[str, PeriodicJob]]:
    """The handlers the installed addons declare, and their periodic jobs, each of which
    becomes a handler of the same name running ``PeriodicJob.func(ctx)``."""
    handlers: dict[str, JobHandler] = {}
    for batch in hooks.kehu_job_handlers():
        for handler in batch or ():
            if handler.name in handlers:
                raise DuplicateJobHandler(name=handler.name)
            handlers[handler.name] = handler
    periodic = collect_periodic_jobs(hooks.kehu_periodic_jobs())
    for name, job in periodic.items():
        if name in handlers:
            raise DuplicateJobHandler(name=name)
        handlers[name] = JobHandler(name=name, func=_periodic_runner(job.func), timeout_seconds=job.timeout_seconds,
                                    max_attempts=PERIODIC_MAX_ATTEMPTS)
    return handlers, periodic


def _periodic_runner(func: Callable[[Ctx], Any]) -> Callable[[Ctx, dict], Any]:
    def run(ctx: Ctx, payload: dict) -> Any:
        return func(ctx)

    return run


def make_worker_id(index: int | str = 0) -> str:
    """``host:pid:n``: which machine, process and thread claimed a job (shown to admins)."""
    return f"{socket.gethostname()[:96]}:{os.getpid()}:{index}"


def describe_error(exc: BaseException) -> str:
    """What ``last_error`` keeps: one line saying what went wrong, then the traceback."""
    message = str(exc).strip().split("\n", 1)[0]
    summary = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    details = "".join(traceback.format_exception(exc))
    return f"{summary}\n\n{details}"[:MAX_ERROR_LENGTH]


class Worker:
    """Runs due jobs until told to stop. ``bind`` is an engine or a session factory; ``addons``
    the catalog (or the web app's ``AddonRuntime``, to share its plugin manager)."""

    def __init__(
        self,
        bind: Engine | sessionmaker,
        addons: AddonCatalog | AddonRuntime,
        settings: Mapping[str, Any],
        *,
        worker_id: str | None = None,
        poll_interval: float = 1.0,
        lease_margin: dt.timedelta = DEFAULT_LEASE_MARGIN,
        recover_interval: float = 10.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessions = bind if isinstance(bind, sessionmaker) else sessionmaker(bind=bind, expire_on_commit=False)
        self.runtime = addons if isinstance(addons, AddonRuntime) else AddonRuntime(addons)
        self.settings = settings
        self.worker_id = worker_id or make_worker_id()
        self.poll_interval = poll_interval
        self.lease_margin = lease_margin
        self.recover_interval = recover_interval
        self.clock = clock
        self.timezone = installation_timezone(settings)
        self._last_recovery = -float("inf")
        self._periodic_minute: dt.datetime | None = None
        self._attempted: dict[str, dt.datetime] = {}

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop_event: threading.Event | None = None, *, max_jobs: int | None = None,
            max_seconds: float | None = None, until_idle: bool = False) -> int:
        """Run jobs until ``stop_event`` is set, ``max_jobs`` ran, ``max_seconds`` passed, or
        (``until_idle``) no job is due. Returns how many jobs this worker ran. Errors of the
        database or of the declarations are logged and retried after ``poll_interval``."""
        stop = stop_event or threading.Event()
        deadline = time.monotonic() + max_seconds if max_seconds is not None else None
        ran = 0
        while not stop.is_set() and (max_jobs is None or ran < max_jobs):
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                worked = self.run_next()
            except Exception:
                log.exception("worker %s: tick failed; trying again in %.1f s", self.worker_id, self.poll_interval)
                worked = False
            if worked:
                ran += 1
                continue
            if until_idle:
                break
            wait = self.poll_interval
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            stop.wait(wait)
        return ran

    def run_next(self) -> bool:
        """Housekeeping when due, then claim and run one job. False when none was due."""
        state = self._installed()
        handlers, periodic = self._handlers(state)
        self._recover_if_due()
        self._enqueue_periodic_if_due(state, periodic)
        with self.sessions() as session:
            claim = claim_next(session, self.worker_id, lambda name: self._lease(handlers.get(name)),
                               now=self.clock())
        if claim is None:
            return False
        self.execute(claim, handlers.get(claim.name), state.hooks)
        return True

    # -- one job -----------------------------------------------------------------------------

    def execute(self, claim: Claim, handler: JobHandler | None, hooks: HookRelay) -> str:
        """Run ``claim`` in its own transaction, then mark it done (same transaction) or failed.
        Returns "done", "failed" or "lost" (the lease ran out and the job was taken over)."""
        if handler is None:
            self._record_failure(claim, f"UnknownJob: no handler for job “{claim.name}” "
                                        "(is the app that enqueued it installed?)", final=True)
            return "failed"
        started = time.monotonic()
        try:
            with self.sessions() as session, session.begin():
                if session.get_bind().dialect.name == "postgresql":
                    milliseconds = max(1, int(handler.timeout_seconds * 1000))
                    session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
                ctx = Ctx(dbsession=session, hooks=hooks, settings=self.settings, system=True, now=self.clock())
                handler.func(ctx, dict(claim.payload))
                session.flush()
                elapsed = time.monotonic() - started
                if elapsed > handler.timeout_seconds:
                    raise JobTimedOut(f"the job ran {elapsed:.1f} s, over its timeout of {handler.timeout_seconds} s")
                if not complete(session, claim, now=self.clock()):
                    raise ClaimLost()
        except ClaimLost:
            log.warning("job %s (%s): lease lost to another worker; this run was rolled back", claim.id, claim.name)
            return "lost"
        except Exception as exc:
            log.warning("job %s (%s) failed, attempt %s of %s: %s", claim.id, claim.name, claim.attempt,
                        claim.max_attempts, exc)
            self._record_failure(claim, describe_error(exc))
            return "failed"
        log.info("job %s (%s) done in %.2f s", claim.id, claim.name, time.monotonic() - started)
        return "done"

    def _record_failure(self, claim: Claim, error: str, *, final: bool = False) -> None:
        with self.sessions() as session, session.begin():
            state = fail(session, claim, error, now=self.clock(), final=final)
        if state is None:
            log.warning("job %s (%s): lease lost before its failure was recorded", claim.id, claim.name)

    def _lease(self, handler: JobHandler | None) -> dt.timedelta:
        if handler is None:
            return UNKNOWN_JOB_LEASE
        return dt.timedelta(seconds=handler.timeout_seconds) + self.lease_margin

    # -- housekeeping ------------------------------------------------------------------------

    def _installed(self) -> InstalledState:
        with self.sessions() as session:
            return self.runtime.sync(session)

    def _handlers(self, state: InstalledState) -> tuple[dict[str, JobHandler], dict[str, PeriodicJob]]:
        """Collected once per set of installed addons (an install reaches running workers)."""
        cached = state.cache.get(_HANDLERS_KEY)
        if cached is None:
            cached = state.cache[_HANDLERS_KEY] = collect_job_handlers(state.hooks)
        return cached

    def _recover_if_due(self) -> None:
        if time.monotonic() - self._last_recovery < self.recover_interval:
            return
        with self.sessions() as session:
            recovered = recover_expired_leases(session, now=self.clock())
        self._last_recovery = time.monotonic()
        if recovered:
            log.warning("queued %s job(s) again whose worker stopped answering", recovered)

    def _enqueue_periodic_if_due(self, state: InstalledState, periodic: Mapping[str, PeriodicJob]) -> None:
        """Once a minute: this period of every periodic job, unless a worker enqueued it already."""
        now = self.clock()
        minute = now.replace(second=0, microsecond=0)
        if minute == self._periodic_minute or not periodic:
            return
        attempted = dict(self._attempted)
        with self.sessions() as session, session.begin():
            ctx = Ctx(dbsession=session, hooks=state.hooks, settings=self.settings, system=True, now=now)
            added = enqueue_due_periodic_jobs(ctx, periodic, now, tz=self.timezone, attempted=attempted)
        self._attempted, self._periodic_minute = attempted, minute  # only once committed
        for job in added:
            log.info("periodic job %s enqueued (%s)", job.name, job.dedupe_key)


@dataclasses.dataclass
class WorkerThread:
    """A worker running in a daemon thread of this process; ``stop()`` lets its job finish."""

    worker: Worker
    thread: threading.Thread
    stop_event: threading.Event

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)


def start_in_process_worker(
    settings: Mapping[str, Any],
    *,
    bind: Engine | sessionmaker,
    addons: AddonCatalog | AddonRuntime,
    poll_interval: float = 2.0,
) -> WorkerThread:
    """One worker in a daemon thread of the web process (SQLite: ``kehu serve``, ``kehu demo``).

    It is stopped at interpreter exit (a job it is running may finish within 10 s; otherwise
    its lease expires and the next start retries it); ``kehu serve`` also stops it when the
    gunicorn worker process exits."""
    worker = Worker(bind, addons, settings, worker_id=make_worker_id("web"), poll_interval=poll_interval)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="kehu-worker", daemon=True)
    handle = WorkerThread(worker, thread, stop)
    thread.start()
    atexit.register(handle.stop)
    log.info("in-process job worker %s started", worker.worker_id)
    return handle

