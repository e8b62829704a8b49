"""培育 (nurture): a lead in status "nurture" is followed up every ``nurture_days`` days (30 when
it enters nurture without one): entering nurture and each follow-up without a next time move the
next follow-up on; bad cadences (0, 366, text) are refused beside the field with nothing
written; the periodic job tells the owner once per due time — not again until the next one —
and only of owned, live leads in nurture; on PostgreSQL two workers at once still send one."""

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from addons.customers.tests.test_pages import login, zh
from addons.leads import hooks, nurture, services
from addons.leads.exceptions import NurtureDaysInvalid
from addons.leads.models import Lead
from core.api.tokens import create_token
from core.models import User
from core.notifications.models import Notification
from core.testing.api import PersonalApi, problem

from .conftest import ZHANG, as_user

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def at(ctx, when):
    ctx.now = when
    return ctx


def get(env, lead_id):
    with env.ctx() as ctx:
        found = ctx.dbsession.get(Lead, lead_id)
        ctx.dbsession.expunge(found)
        return found


def remind(env, now):
    with env.ctx() as ctx:
        return nurture.remind_nurture_due(at(ctx, now))


def reminders(env):
    with env.ctx() as ctx:
        return [(n.user_id, n.record_id, n.url) for n in ctx.dbsession.scalars(
            select(Notification).where(Notification.kind == "leads.nurture_due").order_by(Notification.id))]


def make(env, users, name, owner="zhang", now=NOW, **fields):
    with env.ctx() as ctx:
        return services.create_lead(at(as_user(ctx, users[owner]), now), name=name, **fields).id


def update(env, users, lead_id, now=NOW, owner="zhang", **fields):
    with env.ctx() as ctx:
        services.update_lead(at(as_user(ctx, users[owner]), now), lead_id, **fields)


def follow_up(env, users, lead_id, now, next_at=None):
    with env.ctx() as ctx:
        services.add_followup(at(as_user(ctx, users["zhang"]), now), lead_id, kind="phone", content="培育回访",
                              next_at=next_at)


# -- the cadence --------------------------------------------------------------------------------

def test_entering_nurture_sets_the_cadence_and_the_next_follow_up(company):
    env, users = company
    lead_id = make(env, users, "培育甲公司")
    assert (get(env, lead_id).nurture_days, get(env, lead_id).next_followup_at) == (None, None)
    update(env, users, lead_id, status="nurture")
    assert (get(env, lead_id).nurture_days, get(env, lead_id).next_followup_at) == (30, NOW + 30 * DAY)
    weekly = make(env, users, "培育乙公司", status="nurture", nurture_days="7")  # created in nurture
    assert (get(env, weekly).nurture_days, get(env, weekly).next_followup_at) == (7, NOW + 7 * DAY)
    explicit = make(env, users, "培育丙公司")
    update(env, users, explicit, status="nurture", next_followup_at=NOW + 3 * DAY)  # an explicit time wins
    assert (get(env, explicit).nurture_days, get(env, explicit).next_followup_at) == (30, NOW + 3 * DAY)
    update(env, users, lead_id, remarks="还在培育", now=NOW + DAY)  # staying in nurture moves nothing
    assert get(env, lead_id).next_followup_at == NOW + 30 * DAY


def test_a_follow_up_in_nurture_without_a_next_time_follows_the_cadence(company):
    env, users = company
    lead_id = make(env, users, "培育跟进公司", status="nurture", nurture_days=14)
    follow_up(env, users, lead_id, NOW + 10 * DAY)
    assert get(env, lead_id).next_followup_at == NOW + 24 * DAY
    follow_up(env, users, lead_id, NOW + 11 * DAY, next_at=NOW + 12 * DAY)  # an explicit next time wins
    assert get(env, lead_id).next_followup_at == NOW + 12 * DAY
    update(env, users, lead_id, nurture_days=5, now=NOW + 11 * DAY)  # a new cadence counts from the last follow-up
    assert get(env, lead_id).next_followup_at == NOW + 16 * DAY
    worked = make(env, users, "普通跟进公司")
    follow_up(env, users, worked, NOW)
    assert get(env, worked).next_followup_at is None  # not nurtured: no cadence


@pytest.mark.parametrize("bad", [0, 366, "0", "366", "abc", "1.5", "-3", "３０", True])
def test_a_bad_cadence_is_refused_and_nothing_is_written(company, bad):
    env, users = company
    with pytest.raises(NurtureDaysInvalid), env.ctx() as ctx:
        services.create_lead(as_user(ctx, users["zhang"]), name="坏周期公司", status="nurture", nurture_days=bad)
    lead_id = make(env, users, "好周期公司", status="nurture", nurture_days=10)
    with pytest.raises(NurtureDaysInvalid), env.ctx() as ctx:
        services.update_lead(as_user(ctx, users["zhang"]), lead_id, remarks="不该保存", nurture_days=bad)
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 1
        assert (ctx.dbsession.get(Lead, lead_id).nurture_days, ctx.dbsession.get(Lead, lead_id).remarks) == (10, None)


# -- the form and the page ----------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["0", "366", "每月"])
def test_the_form_shows_a_bad_cadence_beside_the_field_and_writes_nothing(app, bad):
    login(app, ZHANG)
    form = app.get("/leads/new").forms["lead-form"]
    form["name"], form["status"], form["nurture_days"] = "表单培育公司", "nurture", bad
    page = form.submit(status=200)
    assert page.html.select_one("#nurture_days-error").get_text() == zh(NurtureDaysInvalid().translation_string)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 0


def test_the_form_sets_the_cadence_and_the_page_shows_it(app):
    login(app, ZHANG)
    form = app.get("/leads/new").forms["lead-form"]
    form["name"], form["status"], form["nurture_days"] = "页面培育公司", "nurture", "14"
    lead_id = int(form.submit(status=303).headers["Location"].rsplit("/", 1)[1])
    page = app.get(f"/leads/{lead_id}")
    assert page.html.select_one("#lead-nurture-days").get_text(strip=True) == "14"
    assert page.html.select_one("#lead-next-followup").get_text(strip=True) != "—"
    with app.env.ctx() as ctx:
        found = ctx.dbsession.get(Lead, lead_id)
        assert found.nurture_days == 14
        assert dt.timedelta(days=13) < found.next_followup_at - found.created_at < dt.timedelta(days=15)
    edit = app.get(f"/leads/{lead_id}/edit").forms["lead-form"]
    assert edit["nurture_days"].value == "14"
    edit["status"] = "qualified"
    edit.submit(status=303)
    assert app.get(f"/leads/{lead_id}").html.select_one("#lead-nurture-days") is None  # shown while nurtured


# -- the reminder job ---------------------------------------------------------------------------

def test_the_job_tells_the_owner_once_per_due_time(company):
    env, users = company
    lead_id = make(env, users, "提醒培育公司", status="nurture", nurture_days=7)
    due = NOW + 7 * DAY
    assert remind(env, due - dt.timedelta(minutes=1)) == 0
    assert remind(env, due) == 1
    assert remind(env, due + dt.timedelta(minutes=30)) == 0  # the next run: not again
    assert remind(env, due + 3 * DAY) == 0  # still overdue, still once
    assert reminders(env) == [(users["zhang"], str(lead_id), f"/leads/{lead_id}")]
    follow_up(env, users, lead_id, due + 3 * DAY)  # the next one is due in 7 days
    assert remind(env, due + 9 * DAY) == 0
    assert remind(env, due + 10 * DAY) == 1
    assert remind(env, due + 10 * DAY + dt.timedelta(minutes=30)) == 0
    assert len(reminders(env)) == 2
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, lead_id).nurture_reminded_for == due + 10 * DAY


def test_the_job_leaves_other_leads_alone(company):
    env, users = company
    later = make(env, users, "未到期培育公司", status="nurture", nurture_days=60)
    worked = make(env, users, "跟进中公司", status="contacting", next_followup_at=NOW + DAY)
    deleted = make(env, users, "已删除培育公司", status="nurture", nurture_days=1)
    with env.ctx() as ctx:
        services.delete_lead(as_user(ctx, users["wang"]), deleted)
        from addons.leads.pool import pools_for

        pool_id = pools_for(as_user(ctx, users["zhang"]))[0].id
        services.create_lead(at(as_user(ctx, users["wang"]), NOW), name="池中培育公司", status="nurture",
                             pool_id=pool_id)
    assert remind(env, NOW + 31 * DAY) == 0  # in the pool: nobody to tell; deleted; not nurtured; not due
    assert reminders(env) == []
    assert get(env, later).nurture_reminded_for is None and get(env, worked).nurture_reminded_for is None


def test_a_reminder_leaves_the_lead_unchanged_and_is_taken_once(company):
    env, users = company
    lead_id = make(env, users, "只提醒一次公司", status="nurture", nurture_days=1)
    before = get(env, lead_id).updated_at
    with env.ctx() as ctx:
        assert nurture.claim_reminder(at(ctx, NOW + 2 * DAY), lead_id) is True
    with env.ctx() as ctx:
        assert nurture.claim_reminder(at(ctx, NOW + 2 * DAY), lead_id) is False  # a second worker
    assert get(env, lead_id).updated_at == before  # a reminder is no change to the lead


def test_two_workers_at_once_send_one_reminder(company, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the race needs two concurrent transactions")
    env, users = company
    make(env, users, "并发提醒公司", status="nurture", nurture_days=1)
    barrier = threading.Barrier(2, timeout=20)
    original = nurture.claim_reminder
    sent = []

    def read_then_wait(ctx, lead_id):
        barrier.wait()  # both runs have read the lead as due
        return original(ctx, lead_id)

    def run():
        sent.append(remind(env, NOW + 2 * DAY))

    nurture.claim_reminder = read_then_wait
    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        nurture.claim_reminder = original
    assert sorted(sent) == [0, 1]
    assert len(reminders(env)) == 1


def test_the_job_and_the_notification_kind_are_declared():
    [job] = [job for job in hooks.kehu_periodic_jobs() if job.name == "leads.nurture.remind"]
    assert job.cron == "7,37 * * * *" and job.func is nurture.remind_job
    [kind] = [kind for kind in hooks.kehu_notification_kinds() if kind.key == "leads.nurture_due"]
    assert kind.default_channels == ("app", "email")


def test_the_periodic_job_says_how_many_it_told(company):
    env, users = company
    make(env, users, "按时提醒公司", status="nurture", nurture_days=1, now=dt.datetime.now(dt.UTC) - 2 * DAY)
    with env.ctx() as ctx:
        assert nurture.remind_job(ctx) == {"reminded": 1}
        assert nurture.remind_job(ctx) == {"reminded": 0}


# -- the API ------------------------------------------------------------------------------------

def test_the_api_takes_the_cadence_and_refuses_a_bad_one(app):
    with app.env.ctx() as ctx:
        token = create_token(ctx, ctx.dbsession.get(User, app.users["zhang"]), "sync", "write", 30)[0]
    api = PersonalApi(app, {"zhang": token})
    for bad in (0, 366, "每月"):
        refused = problem(api.post("zhang", "/api/v1/leads", {"name": "接口培育公司", "nurture_days": bad},
                                   status=422), 422, "validation_failed")
        assert "nurture_days" in {error["field"] for error in refused["errors"]}
    made = api.post("zhang", "/api/v1/leads", {"name": "接口培育公司"}, status=201).json
    assert made["nurture_days"] is None
    patched = api.patch("zhang", f"/api/v1/leads/{made['id']}", {"status": "nurture"}).json
    assert patched["nurture_days"] == 30 and patched["next_followup_at"] is not None
    assert api.patch("zhang", f"/api/v1/leads/{made['id']}", {"nurture_days": 7}).json["nurture_days"] == 7
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 1
