"""Follow-up plans (跟进计划): made by a follow-up's next time, completed by the next follow-up,
moved / done / cancelled within the scope, the customer's next follow-up kept, reminders sent
exactly once (also with a second worker's transaction on PostgreSQL), the hook offered to the
calendar, the customer page's plan box and the list's quick add."""

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from addons.customers import plans, services
from addons.customers.exceptions import ContentRequired, DueRequired, PlanClosed
from addons.customers.models import Customer, Followup, FollowupPlan
from core.access.exceptions import RecordNotFound
from core.addons.installer import install_addons
from core.i18n import _, localizer_for
from core.models import AuditEntry, User
from core.notifications.models import Notification
from tests.fixtures.addons.planwatch.hooks import EVENTS

from .conftest import LISI, WANG, ZHANG, post

NOW = dt.datetime(2031, 5, 5, 1, 0, tzinfo=dt.UTC)
TUESDAY = dt.datetime(2031, 5, 6, 2, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Shanghai
FRIDAY = dt.datetime(2031, 5, 9, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def catalog(catalog_of):
    """The customers addon and a calendar stand-in that records the plan hook's calls."""
    return catalog_of("addons.customers", "tests.fixtures.addons.planwatch")


@pytest.fixture
def watched(company, catalog):
    env, users = company
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["planwatch"])
    EVENTS.clear()
    return env, users


def as_user(ctx, user_id, now=NOW):
    ctx.now = now
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def zh(message):
    return localizer_for("zh_CN").translate(message)


def customer_of(env, owner_id, name="甲公司"):
    with env.ctx() as ctx:
        return services.create_customer(ctx, name=name, owner_id=owner_id).id


def plan_rows(ctx, customer_id):
    return ctx.dbsession.scalars(select(FollowupPlan).where(FollowupPlan.customer_id == customer_id)
                                 .order_by(FollowupPlan.id)).all()


def reminders(ctx):
    return ctx.dbsession.scalars(select(Notification).where(Notification.kind == plans.REMINDER_KIND)
                                 .order_by(Notification.id)).all()


def remind(env, now):
    with env.ctx() as ctx:
        ctx.now = now
        return plans.remind_due_plans(ctx)


# -- from follow-ups ------------------------------------------------------------------------------

def test_a_followup_with_a_next_time_makes_a_plan_of_its_author(watched):
    env, users = watched
    customer_id = customer_of(env, users["zhang"])
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        followup = services.add_followup(zhang, customer_id, kind="phone", content="约了演示", next_at=TUESDAY,
                                         next_step="上门演示")
        [plan] = plan_rows(ctx, customer_id)
        assert (plan.owner_id, plan.due_at, plan.title, plan.state, plan.followup_id, plan.reminded_at) == (
            users["zhang"], TUESDAY, "上门演示", "planned", followup.id, None)
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at == TUESDAY
        audited = ctx.dbsession.scalars(select(AuditEntry.action).where(
            AuditEntry.model == "customers_followup_plan")).all()
        assert audited == ["create"]
    [event] = EVENTS
    assert event == plans.PlanEvent(plan_id=plan.id, customer_id=customer_id, customer_name="甲公司",
                                    owner_id=users["zhang"], due_at=TUESDAY, title="上门演示", state="planned",
                                    url=f"/customers/{customer_id}#plan-{plan.id}")


def test_a_plan_is_its_authors_even_on_someone_elses_customer(watched):
    """The manager who logs a visit on zhangsan's customer plans their own next step."""
    env, users = watched
    customer_id = customer_of(env, users["zhang"])
    with env.ctx() as ctx:
        services.add_followup(as_user(ctx, users["wang"]), customer_id, kind="visit", content="陪访",
                              next_at=FRIDAY)
        [plan] = plan_rows(ctx, customer_id)
        assert plan.owner_id == users["wang"]
    with env.ctx() as ctx:  # without a user (import, system): the customer's owner
        services.add_followup(ctx, customer_id, kind="other", content="导入", next_at=TUESDAY)
        assert [p.owner_id for p in plan_rows(ctx, customer_id)] == [users["wang"], users["zhang"]]
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at == TUESDAY


def test_the_next_followup_completes_the_authors_open_plans_only(watched):
    env, users = watched
    customer_id = customer_of(env, users["zhang"])
    with env.ctx() as ctx:
        services.add_followup(as_user(ctx, users["zhang"]), customer_id, kind="phone", content="一", next_at=TUESDAY)
        services.add_followup(as_user(ctx, users["wang"]), customer_id, kind="visit", content="二", next_at=FRIDAY)
    EVENTS.clear()
    later = NOW + dt.timedelta(days=1, hours=2)
    with env.ctx() as ctx:
        services.add_followup(as_user(ctx, users["zhang"], later), customer_id, kind="phone", content="演示做了")
        zhangs, wangs = plan_rows(ctx, customer_id)
        assert (zhangs.state, zhangs.done_at) == ("done", later)
        assert (wangs.state, wangs.done_at) == ("planned", None)
        # the earliest open plan is now the manager's
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at == FRIDAY
    assert [(e.plan_id, e.state) for e in EVENTS] == [(zhangs.id, "done")]


def test_a_followup_without_plans_keeps_an_imported_next_followup(watched):
    env, users = watched
    customer_id = customer_of(env, users["zhang"])
    with env.ctx() as ctx:
        ctx.dbsession.get(Customer, customer_id).next_followup_at = FRIDAY
    with env.ctx() as ctx:
        services.add_followup(as_user(ctx, users["zhang"]), customer_id, kind="phone", content="聊了聊")
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at == FRIDAY
        assert plan_rows(ctx, customer_id) == []


# -- move, done, cancel ---------------------------------------------------------------------------

def make_plan(env, users, who="zhang", due=TUESDAY, customer_id=None):
    customer_id = customer_id or customer_of(env, users["zhang"])
    with env.ctx() as ctx:
        services.add_followup(as_user(ctx, users[who]), customer_id, kind="phone", content="约", next_at=due,
                              next_step="回访")
        return customer_id, plan_rows(ctx, customer_id)[-1].id


def test_move_complete_and_cancel_keep_the_next_followup(watched):
    env, users = watched
    customer_id, first = make_plan(env, users, "zhang", TUESDAY)
    _same, second = make_plan(env, users, "wang", FRIDAY, customer_id)
    EVENTS.clear()
    later = FRIDAY + dt.timedelta(days=3)
    with env.ctx() as ctx:
        plans.move_plan(as_user(ctx, users["zhang"]), first, later)
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at == FRIDAY
        with pytest.raises(DueRequired):
            plans.move_plan(as_user(ctx, users["zhang"]), first, None)
    with env.ctx() as ctx:
        plans.complete_plan(as_user(ctx, users["wang"]), second)
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at == later
    with env.ctx() as ctx:
        plans.cancel_plan(as_user(ctx, users["zhang"]), first)
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at is None
        assert [p.state for p in plan_rows(ctx, customer_id)] == ["cancelled", "done"]
        with pytest.raises(PlanClosed):
            plans.move_plan(as_user(ctx, users["zhang"]), first, FRIDAY)
    assert [(e.plan_id, e.state, e.due_at) for e in EVENTS] == [
        (first, "moved", later), (second, "done", FRIDAY), (first, "cancelled", later)]


def test_another_salesperson_cannot_touch_my_plan_but_my_manager_can(watched):
    env, users = watched
    _customer_id, plan_id = make_plan(env, users, "zhang")
    with env.ctx() as ctx:
        lisi = as_user(ctx, users["lisi"])
        for change in (lambda: plans.move_plan(lisi, plan_id, FRIDAY), lambda: plans.complete_plan(lisi, plan_id),
                       lambda: plans.cancel_plan(lisi, plan_id)):
            with pytest.raises(RecordNotFound):
                change()
        assert ctx.dbsession.get(FollowupPlan, plan_id).state == "planned"
    with env.ctx() as ctx:
        plans.move_plan(as_user(ctx, users["wang"]), plan_id, FRIDAY)  # department scope
        assert ctx.dbsession.get(FollowupPlan, plan_id).due_at == FRIDAY


# -- reminders ------------------------------------------------------------------------------------

def test_a_due_plan_is_reminded_once_and_again_after_a_move(watched):
    env, users = watched
    customer_id, plan_id = make_plan(env, users, "zhang", TUESDAY)
    assert remind(env, TUESDAY - dt.timedelta(minutes=1)) == 0
    assert remind(env, TUESDAY) == 1
    assert remind(env, TUESDAY + dt.timedelta(minutes=5)) == 0
    with env.ctx() as ctx:
        [note] = reminders(ctx)
        assert (note.user_id, note.url) == (users["zhang"], f"/customers/{customer_id}#plan-{plan_id}")
        assert note.body == zh(_("Time to follow up “${name}”: ${step}", mapping={"name": "甲公司", "step": "回访"}))
        plans.move_plan(as_user(ctx, users["zhang"], TUESDAY + dt.timedelta(hours=1)), plan_id, FRIDAY)
        assert ctx.dbsession.get(FollowupPlan, plan_id).reminded_at is None
    assert remind(env, FRIDAY - dt.timedelta(minutes=1)) == 0
    assert remind(env, FRIDAY) == 1
    assert remind(env, FRIDAY + dt.timedelta(days=1)) == 0
    with env.ctx() as ctx:
        assert len(reminders(ctx)) == 2


def test_cancelled_and_done_plans_are_never_reminded(watched):
    env, users = watched
    _c1, cancelled = make_plan(env, users, "zhang", TUESDAY)
    _c2, done = make_plan(env, users, "zhang", TUESDAY, customer_of(env, users["zhang"], "乙公司"))
    with env.ctx() as ctx:
        plans.cancel_plan(as_user(ctx, users["zhang"]), cancelled)
        plans.complete_plan(as_user(ctx, users["zhang"]), done)
    assert remind(env, FRIDAY) == 0
    with env.ctx() as ctx:
        assert reminders(ctx) == []


def test_a_customer_in_the_recycle_bin_is_not_reminded_until_restored(watched):
    from addons.customers.recycle import restore_customers

    env, users = watched
    customer_id, _plan_id = make_plan(env, users, "zhang", TUESDAY)
    with env.ctx() as ctx:
        services.delete_customer(ctx, customer_id)
    assert remind(env, FRIDAY) == 0
    with env.ctx() as ctx:
        restore_customers(ctx, [customer_id])
    assert remind(env, FRIDAY) == 1


def test_a_plan_taken_by_another_worker_is_not_reminded_again(watched):
    """The guard itself: a run that read the plan as due before another run reminded it."""
    env, users = watched
    _customer_id, plan_id = make_plan(env, users, "zhang", TUESDAY)
    assert remind(env, TUESDAY) == 1
    with env.ctx() as ctx:
        ctx.now = TUESDAY + dt.timedelta(minutes=5)
        assert plans.claim_reminder(ctx, plan_id) is False
        assert len(reminders(ctx)) == 1


def test_two_workers_at_once_remind_exactly_once_on_postgresql(watched, db_backend):
    """Two transactions on two connections: the second's UPDATE waits for the first's row lock,
    then finds reminded_at set and sends nothing."""
    if db_backend != "postgresql":
        pytest.skip("row locks between two connections: PostgreSQL (SQLite has one writer at a time)")
    env, users = watched
    make_plan(env, users, "zhang", TUESDAY)
    results = {}
    first_done = threading.Event()

    def second_worker():
        results["second"] = remind(env, TUESDAY)
        results["second_finished_after_first"] = first_done.is_set()

    with env.ctx() as ctx:
        ctx.now = TUESDAY
        results["first"] = plans.remind_due_plans(ctx)
        other = threading.Thread(target=second_worker)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive(), "the second worker should wait for the first's row lock"
        first_done.set()
    other.join(timeout=10)
    assert results == {"first": 1, "second": 0, "second_finished_after_first": True}
    with env.ctx() as ctx:
        assert len(reminders(ctx)) == 1


def test_the_periodic_job_is_declared_and_runs_in_the_worker(watched, catalog):
    from core.jobs import worker

    env, users = watched
    make_plan(env, users, "zhang", TUESDAY)
    with env.ctx() as ctx:
        jobs = {job.name: job for batch in ctx.hooks.kehu_periodic_jobs() for job in batch}
        kinds = {kind.key: kind for batch in ctx.hooks.kehu_notification_kinds() for kind in batch}
    assert jobs["customers.plans.remind"].cron == "*/5 * * * *"
    assert kinds["customers.followup_due"].default_channels == ("app", "email")
    from core.jobs.queue import enqueue

    with env.ctx() as ctx:
        enqueue(ctx, "customers.plans.remind", {})
    worker.Worker(env.engine, catalog, env.settings, clock=lambda: TUESDAY).run(until_idle=True)
    with env.ctx() as ctx:
        assert len(reminders(ctx)) == 1


# -- bad input -------------------------------------------------------------------------------------

def test_an_empty_followup_writes_no_plan(watched):
    env, users = watched
    customer_id = customer_of(env, users["zhang"])
    with env.ctx() as ctx, pytest.raises(ContentRequired):
        services.add_followup(as_user(ctx, users["zhang"]), customer_id, kind="phone", content="  ", next_at=TUESDAY)
    with env.ctx() as ctx:
        assert plan_rows(ctx, customer_id) == []
        assert ctx.dbsession.scalar(select(func.count()).select_from(Followup)) == 0
    assert EVENTS == []


# -- pages -----------------------------------------------------------------------------------------

def login(app, user):
    app.reset()
    app.login(*user)


def wtforms_zh(message):
    from wtforms.i18n import get_translations

    return get_translations(["zh_CN"]).gettext(message)


def test_the_customer_page_moves_completes_and_cancels_plans(app):
    customer_id = customer_of(app.env, app.users["zhang"])
    login(app, ZHANG)
    post(app, f"/customers/{customer_id}/followups", [("kind", "phone"), ("content", "约演示"),
                                                      ("next_at", "2031-05-06T10:00"), ("next_step", "演示")],
         status=303)
    page = app.get(f"/customers/{customer_id}")
    [item] = page.html.select('#plans li[data-plan-state="planned"]')
    plan_id = int(item["data-plan-id"])
    assert item.select_one(".plan-title").get_text() == "演示"
    assert item.select_one('.plan-move input[name="due_at"]')["value"] == "2031-05-06T10:00"  # the user's time
    # an unparseable time: the translated error, nothing written
    refused = post(app, f"/customers/plans/{plan_id}/move", [("due_at", "下周二")], status=303).follow()
    assert wtforms_zh("Not a valid datetime value.") in refused.html.select_one(".alert-danger").get_text()
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(FollowupPlan, plan_id).due_at == TUESDAY
    post(app, f"/customers/plans/{plan_id}/move", [("due_at", "2031-05-09T14:30")], status=303)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(FollowupPlan, plan_id).due_at == FRIDAY
        assert ctx.dbsession.get(Customer, customer_id).next_followup_at == FRIDAY
    # another salesperson: not found, whatever the action
    login(app, LISI)
    for action in ("move", "done", "cancel"):
        post(app, f"/customers/plans/{plan_id}/{action}", [("due_at", "2031-06-01T09:00")], status=404)
    login(app, ZHANG)
    post(app, f"/customers/plans/{plan_id}/done", [], status=303)
    again = post(app, f"/customers/plans/{plan_id}/cancel", [], status=303).follow()
    assert zh(PlanClosed.message) in again.html.select_one(".alert-danger").get_text()
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one(f'#plan-{plan_id}')["data-plan-state"] == "done"
    assert page.html.select_one("#plans-empty") is not None
    assert page.html.select_one("#customer-next-followup").get_text(strip=True) == "—"
    assert page.html.select_one("#timeline .followup-plan")["data-plan-state"] == "done"


def test_the_customer_page_costs_the_same_queries_for_one_plan_or_many(app):
    from .test_pages import count_queries

    customer_id, _plan = make_plan(app.env, app.users, "wang", TUESDAY)
    login(app, WANG)
    one = len(count_queries(app, f"/customers/{customer_id}"))
    make_plan(app.env, app.users, "zhang", FRIDAY, customer_id)
    with app.env.ctx() as ctx:  # an imported follow-up: the owner's plan too
        services.add_followup(ctx, customer_id, kind="other", content="导入", next_at=FRIDAY)
    page = app.get(f"/customers/{customer_id}")
    assert len(page.html.select('#plans li[data-plan-state="planned"]')) == 3
    assert len(count_queries(app, f"/customers/{customer_id}")) == one


def test_a_manager_sees_the_buttons_on_a_team_plan_and_a_reader_only_the_plan(app):
    customer_id = customer_of(app.env, app.users["zhang"])
    _same, plan_id = make_plan(app.env, app.users, "zhang", TUESDAY, customer_id)
    login(app, WANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one(f"#plan-{plan_id} .plan-move") is not None
    with app.env.ctx() as ctx:  # a plan of the manager's own on the same customer: zhangsan sees no buttons on it
        services.add_followup(as_user(ctx, app.users["wang"]), customer_id, kind="visit", content="陪访",
                              next_at=FRIDAY)
        wangs = plan_rows(ctx, customer_id)[-1].id
    login(app, ZHANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one(f"#plan-{wangs}") is not None
    assert page.html.select_one(f"#plan-{wangs} .plan-move") is None
    assert page.html.select_one(f"#plan-{plan_id} .plan-move") is not None


def test_quick_add_from_the_list_comes_back_to_the_list(app):
    customer_id = customer_of(app.env, app.users["zhang"])
    login(app, ZHANG)
    listing = app.get("/customers?q=%E7%94%B2")
    link = listing.html.select_one(f'#row-{customer_id} a[data-row-action="followup"]')
    assert link["hx-target"] == "#kehu-row-dialog-body" and listing.html.select_one("dialog#kehu-row-dialog")
    # click one: the form, alone, for the list's dialog
    fragment = app.get(link["href"], headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    form = fragment.html.select_one("#quick-followup-form")
    back = form.select_one('input[name="next"]')["value"]
    assert back == "/customers?q=%E7%94%B2"
    action = form["action"]
    # bad input: the small form again with the translated errors, nothing written
    empty = post(app, action, [("kind", "phone"), ("content", ""), ("next", back)], status=200)
    assert empty.html.select_one("#quick-followup-form #content.is-invalid") is not None
    garbled = post(app, action, [("kind", "phone"), ("content", "打了电话"), ("next_at", "明天上午"), ("next", back)],
                   status=200)
    assert wtforms_zh("Not a valid datetime value.") in garbled.html.select_one("#quick-followup-form").get_text()
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Followup)) == 0
    # click two: saved, back on the list with the flash
    saved = post(app, action, [("kind", "phone"), ("content", "打了电话"), ("next_at", "2031-05-06T10:00"),
                               ("next_step", "发报价"), ("next", back)], status=303)
    assert saved.location.endswith(back)
    page = saved.follow()
    assert page.html.select_one("#list-table") is not None
    assert zh(_("Follow-up saved.")) in page.html.select_one(".alert-success").get_text()
    with app.env.ctx() as ctx:
        [plan] = plan_rows(ctx, customer_id)
        assert (plan.title, plan.due_at) == ("发报价", TUESDAY)
    # somewhere else than Kehu: back to the home page, never off-site
    off = post(app, action, [("kind", "phone"), ("content", "再打"), ("next", "https://evil.example/")], status=303)
    assert "evil.example" not in off.location


def test_the_quick_form_opens_as_a_page_without_javascript_and_the_list_stays_bounded(app):
    from .test_pages import count_queries

    customer_id = customer_of(app.env, app.users["zhang"])
    login(app, ZHANG)
    page = app.get(f"/customers/{customer_id}/followups/new?next=/customers")
    assert page.html.select_one("main #quick-followup-form") is not None
    few = len(count_queries(app, "/customers"))
    for number in range(8):
        customer_of(app.env, app.users["zhang"], f"客户{number}号公司")
    assert len(count_queries(app, "/customers")) == few
    login(app, ("admin", "Kehu-Test-Pass-42"))
    assert app.get("/customers").html.select('a[data-row-action="followup"]')
