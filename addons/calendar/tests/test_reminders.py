"""Reminders (工作备忘提醒): sent by the periodic job once per occurrence and offset, to the owner
and the participants who have not declined; moved with their item, gone with it; one per
occurrence of a series; all-day items against 09:00; done tasks never; on PostgreSQL two workers
at once still send one."""

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from addons.calendar import hooks, reminders, services
from addons.calendar.models import Reminder
from addons.calendar.occurrences import get_item
from addons.calendar.services import ItemData
from core.notifications.models import Notification

from .conftest import as_user

UTC = dt.UTC
#: 2026-12-07 09:00 in Shanghai
START = dt.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)


def at(ctx, when):
    ctx.now = when
    return ctx


def new(env, users, now=START - dt.timedelta(days=3), **fields):
    fields = {"title": "拜访客户", "start": dt.datetime(2026, 12, 7, 9, 0), "reminders": (15,), **fields}
    with env.ctx() as ctx:
        return services.create_item(at(as_user(ctx, users["zhang"]), now), ItemData(**fields)).id


def remind(env, now):
    with env.ctx() as ctx:
        return reminders.remind_due(at(ctx, now))


def sent(env):
    with env.ctx() as ctx:
        return [(n.user_id, n.body) for n in ctx.dbsession.scalars(
            select(Notification).where(Notification.kind == "calendar.reminder").order_by(Notification.id))]


def test_a_reminder_is_sent_once_at_its_time_to_owner_and_participants(company):
    env, users = company
    new(env, users, participants=(users["lisi"], users["wang"]))
    assert remind(env, START - 16 * MINUTE) == 0
    assert remind(env, START - 15 * MINUTE) == 1
    assert remind(env, START - 14 * MINUTE) == 0
    assert remind(env, START + 60 * MINUTE) == 0
    recipients = sorted(user for user, _body in sent(env))
    assert recipients == sorted([users["zhang"], users["lisi"], users["wang"]])
    assert "拜访客户" in sent(env)[0][1] and "2026-12-07 09:00" in sent(env)[0][1]


def test_a_declined_participant_is_not_reminded(company):
    env, users = company
    item_id = new(env, users, participants=(users["lisi"],))
    with env.ctx() as ctx:
        services.respond(as_user(ctx, users["lisi"]), item_id, "declined")
    remind(env, START)
    assert [user for user, _body in sent(env)] == [users["zhang"]]


def test_several_offsets_each_remind_once(company):
    env, users = company
    new(env, users, reminders=(15, 24 * 60))
    assert remind(env, START - dt.timedelta(days=1)) == 1
    assert remind(env, START - 15 * MINUTE) == 1
    assert remind(env, START) == 0


def test_a_moved_item_is_reminded_at_its_new_time_and_a_deleted_one_never(company):
    env, users = company
    item_id = new(env, users)
    with env.ctx() as ctx:
        me = at(as_user(ctx, users["zhang"]), START - dt.timedelta(days=1))
        data = services.data_of(get_item(me, item_id))
        services.update_item(me, item_id, dataclasses.replace(data, start=dt.datetime(2026, 12, 8, 9, 0), end=None))
    assert remind(env, START) == 0  # the old time
    assert remind(env, START + dt.timedelta(days=1) - 15 * MINUTE) == 1
    other = new(env, users, title="取消的会")
    with env.ctx() as ctx:
        services.delete_item(as_user(ctx, users["zhang"]), other)
    assert remind(env, START) == 0
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Reminder)) == 1


def test_a_series_is_reminded_once_per_occurrence_and_skips_deleted_ones(company):
    env, users = company
    item_id = new(env, users, rrule="FREQ=DAILY;COUNT=3")
    with env.ctx() as ctx:
        services.delete_item(at(as_user(ctx, users["zhang"]), START - dt.timedelta(days=1)), item_id,
                             key="2026-12-08T09:00", mode="one")
    assert remind(env, START - 15 * MINUTE) == 1
    assert remind(env, START - 10 * MINUTE) == 0
    assert remind(env, START + dt.timedelta(days=1)) == 0  # 12-08 was deleted
    assert remind(env, START + dt.timedelta(days=2) - 15 * MINUTE) == 1
    assert remind(env, START + dt.timedelta(days=3)) == 0  # the series is over
    assert [body for _user, body in sent(env)][1].count("2026-12-09 09:00") == 1


def test_a_job_that_missed_its_minutes_still_reminds_once(company):
    env, users = company
    new(env, users, rrule="FREQ=DAILY;COUNT=3")
    assert remind(env, START + 5 * MINUTE) == 1  # late, but the occurrence's reminder goes out
    assert remind(env, START + 6 * MINUTE) == 0


def test_an_all_day_item_is_reminded_against_nine_in_the_morning(company):
    env, users = company
    new(env, users, all_day=True, start=None, start_date=dt.date(2026, 12, 7), reminders=(24 * 60,))
    assert remind(env, dt.datetime(2026, 12, 6, 0, 59, tzinfo=UTC)) == 0
    assert remind(env, dt.datetime(2026, 12, 6, 1, 0, tzinfo=UTC)) == 1  # 09:00 the day before, in Shanghai


def test_a_done_task_is_not_reminded(company):
    env, users = company
    task_id = new(env, users, kind="task", title="寄合同")
    with env.ctx() as ctx:
        services.set_done(at(as_user(ctx, users["zhang"]), START - dt.timedelta(hours=2)), task_id)
    assert remind(env, START) == 0
    with env.ctx() as ctx:
        services.set_done(at(as_user(ctx, users["zhang"]), START - dt.timedelta(hours=1)), task_id, False)
    assert remind(env, START) == 1


def test_two_workers_at_once_send_one_reminder(company, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the race needs two concurrent transactions")
    env, users = company
    new(env, users)
    barrier = threading.Barrier(2, timeout=20)
    original = reminders.claim
    counts = []

    def read_then_wait(ctx, *args):
        barrier.wait()  # both runs have read the reminder as due
        return original(ctx, *args)

    def run():
        counts.append(remind(env, START))

    reminders.claim = read_then_wait
    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        reminders.claim = original
    assert sorted(counts) == [0, 1]
    assert len(sent(env)) == 1


def test_the_job_and_the_notification_kinds_are_declared(company):
    [job] = [job for job in hooks.kehu_periodic_jobs() if job.name == "calendar.reminders"]
    assert job.func is reminders.remind_job
    assert {kind.key for kind in hooks.kehu_notification_kinds()} == {
        "calendar.reminder", "calendar.invited", "calendar.changed"}
    env, users = company
    new(env, users, now=dt.datetime.now(UTC) - dt.timedelta(days=1),
        start=(dt.datetime.now(UTC) + dt.timedelta(hours=8, minutes=5)).replace(tzinfo=None))
    with env.ctx() as ctx:
        assert reminders.remind_job(ctx) == {"reminded": 1}
