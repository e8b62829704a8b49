"""Jobs: the queue, the worker, periodic jobs, lease recovery, the admin page and ``kehu jobs``.

Handlers come from the fixture addon ``jobsfix``: each successful run inserts a ``jobsfix_run``
row keyed (uniquely) by the job's payload, in the job's own transaction, so a job whose work
committed twice would fail loudly and show in the counts. On PostgreSQL two worker *processes*
share 200 jobs; on both databases a worker killed with SIGKILL mid-job leaves it to another."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import zoneinfo
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from core.access.exceptions import PermissionDenied
from core.addons.installer import install_addons
from core.cli import main
from core.contributions import PeriodicJob
from core.jobs.exceptions import JobNotCancellable, JobNotFound, JobNotRetryable
from core.jobs.models import CANCELLED, DEAD, DONE, QUEUED, RUNNING, Job
from core.jobs.periodic import CronSchedule, enqueue_due_periodic_jobs
from core.jobs.queue import (
    cancel_job,
    claim_next,
    complete,
    enqueue,
    job_counts,
    list_jobs,
    recover_expired_leases,
    retry_job,
)
from core.jobs.worker import Worker
from core.models import AuditEntry
from core.org.services import root_department
from core.testing.queries import count_queries
from core.users.services import create_user

FIXTURE = "tests.fixtures.addons.jobsfix"
SALES = ("lisi", "Spring-Tea-77")
MINUTE = dt.timedelta(minutes=1)
REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURE)


@pytest.fixture
def env(kehu_db, cli_env, catalog):
    """The command line's environment on an initialised database with ``jobsfix`` installed."""
    environment = cli_env(catalog)
    with environment.ctx() as ctx:
        install_addons(ctx, catalog, ["jobsfix"])
    return environment


def sessions(env):
    return sessionmaker(bind=env.engine, expire_on_commit=False)


def add_jobs(env, name, payloads, **options):
    with env.ctx() as ctx:
        return [enqueue(ctx, name, payload, **options).id for payload in payloads]


def job(env, job_id):
    with sessions(env)() as session:
        return session.get(Job, job_id)


def runs(env):
    """The committed runs: key -> pid."""
    with env.engine.connect() as connection:
        return dict(connection.exec_driver_sql("SELECT key, pid FROM jobsfix_run").all())


def make_worker(env, **options):
    return Worker(env.engine, env.catalog, env.settings, **options)


# -- the queue --------------------------------------------------------------------------------


def test_enqueue_claim_complete(env):
    with pytest.raises(RuntimeError), env.ctx() as ctx:  # noqa: PT012 (the rollback is the point)
        enqueue(ctx, "jobsfix.record", {"key": "rolled-back"})
        raise RuntimeError("the caller fails: its job goes with it")
    with sessions(env)() as session:
        assert claim_next(session, "w1", MINUTE) is None

    now = T0
    (first,) = add_jobs(env, "jobsfix.record", [{"key": "a"}], run_at=T0)
    (later,) = add_jobs(env, "jobsfix.record", [{"key": "b"}], run_at=T0 + dt.timedelta(hours=1))
    with sessions(env)() as session:
        claim = claim_next(session, "w1", lambda name: dt.timedelta(seconds=90), now=now)
        assert claim_next(session, "w2", MINUTE, now=now) is None  # the other one is not due yet
    assert (claim.id, claim.name, claim.payload, claim.attempt, claim.max_attempts) == (
        first, "jobsfix.record", {"key": "a"}, 1, 5)  # max_attempts: the handler's default
    row = job(env, first)
    assert (row.state, row.locked_by, row.attempts) == (RUNNING, "w1", 1)
    assert row.locked_until == now + dt.timedelta(seconds=90)

    with sessions(env)() as session, session.begin():
        assert complete(session, claim, now=now)
    assert (job(env, first).state, job(env, first).finished_at) == (DONE, now)
    with sessions(env)() as session:
        assert claim_next(session, "w1", MINUTE, now=now + dt.timedelta(hours=2)).id == later


def test_dedupe_key_enqueues_once(env):
    with env.ctx() as ctx:
        assert enqueue(ctx, "jobsfix.record", {"key": 1}, dedupe_key="once") is not None
        assert enqueue(ctx, "jobsfix.record", {"key": 2}, dedupe_key="once") is None
    with env.ctx() as ctx:
        assert enqueue(ctx, "jobsfix.record", {"key": 3}, dedupe_key="once") is None
        assert enqueue(ctx, "jobsfix.record", {"key": 4}, dedupe_key="another") is not None
    with sessions(env)() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 2


def test_a_failing_job_backs_off_then_dies_and_its_writes_are_rolled_back(env):
    (job_id,) = add_jobs(env, "jobsfix.fail", [{"key": "f"}], run_at=T0)
    clock = [T0]
    worker = make_worker(env, worker_id="w1", clock=lambda: clock[0])
    handlers, _periodic = worker._handlers(worker._installed())
    hooks = worker._installed().hooks
    delays = []
    for attempt in (1, 2, 3):
        with sessions(env)() as session:
            assert claim_next(session, "w1", MINUTE, now=clock[0] - dt.timedelta(seconds=1)) is None  # not due
            claim = claim_next(session, "w1", MINUTE, now=clock[0])
        assert claim.attempt == attempt
        assert worker.execute(claim, handlers[claim.name], hooks) == "failed"
        row = job(env, job_id)
        assert row.last_error.startswith("RuntimeError: deliberate failure of f")
        assert "Traceback" in row.last_error  # kept for administrators
        if attempt < 3:
            assert row.state == QUEUED
            delays.append((row.run_at - clock[0]).total_seconds())
            clock[0] = row.run_at
    assert 10 <= delays[0] <= 11 and 20 <= delays[1] <= 22
    row = job(env, job_id)
    assert (row.state, row.attempts, row.finished_at) == (DEAD, 3, clock[0])
    assert runs(env) == {}  # each attempt's insert was rolled back with it


def test_overrun_and_unknown_jobs_fail(env):
    overrun, unknown = (add_jobs(env, "jobsfix.overrun", [{"key": "slow", "seconds": 1.2}], max_attempts=1)[0],
                        add_jobs(env, "nobody.handles.this", [{}])[0])
    assert make_worker(env).run(until_idle=True) >= 2
    assert job(env, overrun).state == DEAD
    assert job(env, overrun).error_summary.startswith("JobTimedOut: the job ran 1.")
    assert runs(env) == {}  # the overrun's work was rolled back
    assert job(env, unknown).state == DEAD
    assert job(env, unknown).attempts == 1
    assert "no handler for job “nobody.handles.this”" in job(env, unknown).last_error


def test_the_worker_runs_due_jobs_and_each_period_of_a_periodic_job_once(env):
    add_jobs(env, "jobsfix.record", [{"key": n} for n in range(3)])
    assert make_worker(env).run(until_idle=True) == 5  # three, and the core's two nightly purges
    assert set(runs(env)) == {"0", "1", "2"}
    with sessions(env)() as session:
        purge = session.scalars(select(Job).where(Job.name == "core.purge_expired_sessions")).one()
    assert purge.state == DONE
    assert purge.dedupe_key.startswith("core.purge_expired_sessions@")
    assert make_worker(env).run(until_idle=True) == 0  # another worker: the period ran already


def test_cron_schedule_finds_the_latest_period_start():
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 12, 1, 19, 7, 30, tzinfo=dt.UTC)  # Wednesday 03:07:30 in Shanghai
    assert CronSchedule("*/5 * * * *").latest_start(now, dt.UTC) == now.replace(minute=5, second=0)
    assert CronSchedule("17 3 * * *").latest_start(now, shanghai) == dt.datetime(2026, 11, 30, 19, 17, tzinfo=dt.UTC)
    assert CronSchedule("0 3 * * *").latest_start(now, shanghai) == dt.datetime(2026, 12, 1, 19, 0, tzinfo=dt.UTC)
    assert CronSchedule("0 0 * * 0").latest_start(now, dt.UTC) is None  # last Sunday: over a day ago
    assert CronSchedule("0 12 1 * 1").latest_start(now, dt.UTC) == now.replace(hour=12, minute=0, second=0)
    assert CronSchedule("30 8-18/2 * * 1-5").matches(dt.datetime(2026, 12, 1, 10, 30))
    assert not CronSchedule("30 8-18/2 * * 1-5").matches(dt.datetime(2026, 12, 6, 10, 30))  # a Sunday


def test_two_workers_ticking_together_enqueue_a_period_once(env):
    jobs = {"jobsfix.record": PeriodicJob(name="jobsfix.record", cron="*/10 * * * *", func=lambda ctx: None)}
    now = T0 + dt.timedelta(minutes=13)
    workers = [make_worker(env, clock=lambda: now) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def tick(worker):
        try:
            state = worker._installed()
            barrier.wait(5)
            worker._enqueue_periodic_if_due(state, jobs)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tick, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with sessions(env)() as session:
        rows = session.execute(select(Job.name, Job.dedupe_key, Job.run_at)).all()
    period = T0 + dt.timedelta(minutes=10)
    assert rows == [("jobsfix.record", f"jobsfix.record@{period.isoformat()}", period)]
    with env.ctx() as ctx:  # the same period again adds nothing; the next one is new
        assert enqueue_due_periodic_jobs(ctx, jobs, now) == []
        assert len(enqueue_due_periodic_jobs(ctx, jobs, now + dt.timedelta(minutes=10))) == 1


def test_an_expired_lease_is_recovered_and_the_stale_run_cannot_finish(env):
    (first,) = add_jobs(env, "jobsfix.record", [{"key": 1}], run_at=T0)
    with sessions(env)() as session:
        stale = claim_next(session, "w1", MINUTE, now=T0)
        assert recover_expired_leases(session, now=T0 + dt.timedelta(seconds=30)) == 0
        assert recover_expired_leases(session, now=T0 + 2 * MINUTE) == 1
    row = job(env, first)
    assert (row.state, row.attempts, row.locked_until) == (QUEUED, 1, None)
    assert "worker w1 stopped answering" in row.last_error
    with sessions(env)() as session:
        fresh = claim_next(session, "w2", MINUTE, now=T0 + 2 * MINUTE)
    assert (fresh.id, fresh.attempt) == (first, 2)
    with sessions(env)() as session, session.begin():
        assert not complete(session, stale)  # the fence: w1's late run is rolled back
    with sessions(env)() as session, session.begin():
        assert complete(session, fresh)
    assert job(env, first).state == DONE

    (last,) = add_jobs(env, "jobsfix.record", [{"key": 2}], run_at=T0, max_attempts=1)
    with sessions(env)() as session:
        claim_next(session, "w3", MINUTE, now=T0)
        assert recover_expired_leases(session, now=T0 + 2 * MINUTE) == 1
    assert job(env, last).state == DEAD  # that was its last attempt: dead, not retried for ever


def test_cancel_and_retry_are_permission_checked_and_audited(env):
    queued, other = add_jobs(env, "jobsfix.record", [{"key": 1}, {"key": 2}])
    with env.ctx() as ctx:
        sales = create_user(ctx, *SALES, roles=["sales"], department_id=root_department(ctx).id)
        for service in (cancel_job, retry_job):
            with pytest.raises(PermissionDenied):
                service(ctx.as_user(sales), queued)
        with pytest.raises(PermissionDenied):
            list_jobs(ctx.as_user(sales))
    with env.ctx() as ctx:
        assert cancel_job(ctx, queued).state == CANCELLED
        with pytest.raises(JobNotCancellable):
            cancel_job(ctx, queued)
        with pytest.raises(JobNotRetryable):
            retry_job(ctx, other)
        with pytest.raises(JobNotFound):
            retry_job(ctx, 999_999)
        retried = retry_job(ctx, queued)
        assert (retried.state, retried.attempts, retried.finished_at) == (QUEUED, 0, None)
        assert job_counts(ctx) == {QUEUED: 2, RUNNING: 0, DONE: 0, DEAD: 0, CANCELLED: 0}
        assert [j.id for j in list_jobs(ctx, QUEUED)] == [other, queued]
        assert [j.id for j in list_jobs(ctx, None, before_id=other)] == [queued]
        audit = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.model == "core_job")
                                      .order_by(AuditEntry.id)).all()
    assert [(a.record_id, a.changes, a.username) for a in audit] == [
        (str(queued), {"state": [QUEUED, CANCELLED]}, "system"),
        (str(queued), {"state": [CANCELLED, QUEUED]}, "system")]


def test_admin_page_lists_retries_and_cancels_and_refuses_a_salesperson(env, make_kehu_app, catalog):
    dead, queued = add_jobs(env, "jobsfix.record", [{"key": "d"}, {"key": "q"}])
    with env.ctx() as ctx:
        row = ctx.dbsession.get(Job, dead)
        row.state, row.attempts, row.last_error = DEAD, 5, "RuntimeError: mail server away\n\nTraceback (most…"
        create_user(ctx, *SALES, roles=["sales"], department_id=root_department(ctx).id)
    app = make_kehu_app(catalog=catalog)
    app.login()
    page = app.get("/admin/jobs")
    assert page.html.find(id=f"job-{dead}")["data-state"] == DEAD
    assert "RuntimeError: mail server away" in page.html.find(id=f"job-{dead}").get_text()
    assert page.html.find(id="job-tab-dead").find("span")["data-count"] == "1"
    assert 'href="/admin/jobs"' in app.get("/").text  # the menu item
    failed_tab = app.get("/admin/jobs", {"state": DEAD})
    assert failed_tab.html.find(id=f"job-{queued}") is None
    form = failed_tab.html.find(id=f"job-{dead}").find("form")
    assert form["action"] == f"/admin/jobs/{dead}/retry" and form.has_attr("data-confirm")

    assert app.post_form(f"/admin/jobs/{dead}/retry", {"state": DEAD}).status_int == 303
    assert app.post_form(f"/admin/jobs/{queued}/cancel").status_int == 303
    assert (job(env, dead).state, job(env, queued).state) == (QUEUED, CANCELLED)
    refusal = app.post_form(f"/admin/jobs/{queued}/cancel").follow().html.find(class_="alert-danger")
    assert str(queued) in refusal.get_text()
    app.post_form("/admin/jobs/999999/cancel", status=404)

    few = len(count_queries(app, "/admin/jobs"))
    add_jobs(env, "jobsfix.record", [{"key": n} for n in range(60)])
    assert len(count_queries(app, "/admin/jobs")) == few  # a full page costs what a short one does
    assert app.get("/admin/jobs").html.find("a", rel="next") is not None

    sales = make_kehu_app(catalog=catalog)
    sales.login(*SALES)
    sales.get("/admin/jobs", status=403)
    sales.post_form(f"/admin/jobs/{queued}/retry", status=403)
    assert job(env, queued).state == CANCELLED
    assert 'href="/admin/jobs"' not in sales.get("/").text


def test_kehu_jobs_command(env):
    (job_id,) = add_jobs(env, "jobsfix.record", [{"key": "cli"}])

    def kehu(*args):
        return CliRunner().invoke(main, list(args), obj=env)

    listed = kehu("jobs", "list")
    assert listed.exit_code == 0 and "jobsfix.record" in listed.output and "queued: 1" in listed.output
    assert kehu("jobs", "cancel", str(job_id)).exit_code == 0
    refused = kehu("jobs", "cancel", str(job_id))
    assert refused.exit_code == 1 and str(job_id) in refused.output
    assert kehu("jobs", "retry", str(job_id)).exit_code == 0
    ran = kehu("worker", "--once")
    assert ran.exit_code == 0, ran.output
    assert job(env, job_id).state == DONE


# -- several processes -----------------------------------------------------------------------------

WORKER_PROCESS = """
import datetime as dt, pathlib, sys, time
from importlib.metadata import EntryPoint
from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
from core.db import make_engine
from core.jobs.worker import Worker

url, go, margin, mode = sys.argv[1], pathlib.Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
catalog = AddonCatalog.discover([EntryPoint(name="jobsfix", value=sys.argv[5], group=ENTRY_POINT_GROUP)])
worker = Worker(make_engine(url), catalog, {"kehu.database_url": url}, poll_interval=0.05,
                lease_margin=dt.timedelta(seconds=margin), recover_interval=0.2)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
if mode == "idle":
    ran = worker.run(until_idle=True, max_seconds=40)
else:
    ran = worker.run(max_jobs=int(mode), max_seconds=20)
print("ran", ran, flush=True)
"""


def start_worker(url, go, *, margin=30.0, mode="idle"):
    command = [sys.executable, "-c", WORKER_PROCESS, url, str(go), str(margin), mode, FIXTURE]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    return process


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


@pytest.fixture
def postgres_only(db_backend):
    if db_backend != "postgresql":
        pytest.skip("several worker processes share one queue on PostgreSQL (SQLite: one writer)")


@pytest.mark.usefixtures("postgres_only")
def test_two_worker_processes_run_every_job_exactly_once(env, database_url, tmp_path):
    ids = add_jobs(env, "jobsfix.record", [{"key": n, "pause": 0.005} for n in range(200)])
    go = tmp_path / "go"
    workers = [start_worker(database_url, go) for _ in range(2)]
    go.touch()
    outputs = [process.communicate(timeout=45) for process in workers]
    assert [process.returncode for process in workers] == [0, 0], outputs
    done = runs(env)
    assert sorted(done) == sorted(str(n) for n in range(200))
    assert len(set(done.values())) == 2  # both processes took their share
    with sessions(env)() as session:
        states = session.execute(select(Job.state, Job.attempts, func.count()).where(Job.id.in_(ids))
                                 .group_by(Job.state, Job.attempts)).all()
    assert states == [(DONE, 1, 200)]  # every job claimed once, run once, done once
    assert sum(int(out.split()[-1]) for out, _err in outputs) == 202  # and the core's two purges, each by one


def test_a_worker_killed_mid_job_leaves_it_to_another(env, database_url, tmp_path):
    marker = tmp_path / "started"
    (job_id,) = add_jobs(env, "jobsfix.sleep", [{"key": "k", "marker": str(marker), "seconds": 60}])
    go = tmp_path / "go"
    go.touch()
    first = start_worker(database_url, go, margin=0.5, mode="5")
    wait_for(marker.exists, 15, "the first worker never started the job")
    assert job(env, job_id).state == RUNNING
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert runs(env) == {}

    second = start_worker(database_url, go, margin=0.5, mode="1")  # lease: 1 s timeout + 0.5 s
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0 and out.split()[-1] == "1", err
    row = job(env, job_id)
    assert (row.state, row.attempts) == (DONE, 2)
    assert list(runs(env)) == ["k"]
