"""``kehu worker`` runs background jobs; ``kehu jobs list | retry | cancel`` looks after them."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click

from core.cli.environment import CliEnvironment
from core.cli.output import say
from core.db import make_engine
from core.i18n import _
from core.jobs.models import STATES
from core.jobs.queue import cancel_job, job_counts, list_jobs, retry_job
from core.jobs.worker import Worker, make_worker_id


@click.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at the same time, one thread each (PostgreSQL; SQLite runs one).")
@click.option("--once", is_flag=True, help="Run the jobs that are due now, then stop.")
@click.option("--max-seconds", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option("--poll-interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="Seconds between looks at an empty queue.")
@click.pass_obj
def worker(env: CliEnvironment, concurrency: int, once: bool, max_seconds: float | None,
           poll_interval: float) -> None:
    """Run background jobs until stopped (Ctrl-C or SIGTERM let the running jobs finish)."""
    with env.ctx():  # refuses a database that was never initialised
        pass
    url = env.settings["kehu.database_url"]
    if url.startswith("sqlite") and concurrency > 1:
        say(_("SQLite has one writer at a time: running one job at a time."), err=True)
        concurrency = 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(url, pool_size=concurrency + 1)
    stop = threading.Event()
    workers = [Worker(engine, env.catalog, env.settings, worker_id=make_worker_id(index), poll_interval=poll_interval)
               for index in range(concurrency)]
    counts = [0] * concurrency

    def run(index: int) -> None:
        counts[index] = workers[index].run(stop, max_seconds=max_seconds, until_idle=once)

    threads = [threading.Thread(target=run, args=(index,), name=f"kehu-worker-{index}") for index in range(concurrency)]
    previous = _stop_on_signals(stop)
    say(_("Worker ${id} started (${count} thread(s)); Ctrl-C stops it."), id=workers[0].worker_id.rsplit(":", 1)[0],
        count=concurrency, err=True)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)  # wake up now and then, so signals are handled
    finally:
        _restore_signals(previous)
        engine.dispose()
    say(_("Stopped after ${count} job(s)."), count=sum(counts), err=True)


def _stop_on_signals(stop: threading.Event) -> dict[int, Any]:
    """The first SIGINT/SIGTERM asks the threads to stop after their current job; a second
    Ctrl-C stops at once (the running jobs' leases then expire and other workers retry them)."""

    def handle(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handle)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@click.group()
def jobs() -> None:
    """See, retry and cancel background jobs."""


@jobs.command("list")
@click.option("--state", type=click.Choice(STATES), default=None, help="Only jobs in this state.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.pass_obj
def list_command(env: CliEnvironment, state: str | None, limit: int) -> None:
    """Jobs newest first, and how many there are in each state."""
    with env.ctx() as ctx:
        counts = job_counts(ctx)
        rows = list_jobs(ctx, state, limit=limit)
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))
    for job in rows:
        when = (job.finished_at or job.run_at).isoformat(sep=" ", timespec="seconds")
        click.echo(f"{job.id:>8}  {job.state:<9}  {job.attempts}/{job.max_attempts}  {when}  {job.name}"
                   + (f"  {job.error_summary[:120]}" if job.error_summary else ""))
    if not rows:
        say(_("No job."))


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.pass_obj
def retry_command(env: CliEnvironment, job_id: int) -> None:
    """Queue a failed (dead) or cancelled job JOB_ID again, with all its attempts."""
    with env.ctx() as ctx:
        job = retry_job(ctx, job_id)
    say(_("Job ${id} (${name}) queued again."), id=job.id, name=job.name)


@jobs.command("cancel")
@click.argument("job_id", type=int)
@click.pass_obj
def cancel_command(env: CliEnvironment, job_id: int) -> None:
    """Cancel queued job JOB_ID (a running job cannot be stopped)."""
    with env.ctx() as ctx:
        job = cancel_job(ctx, job_id)
    say(_("Job ${id} (${name}) cancelled."), id=job.id, name=job.name)

