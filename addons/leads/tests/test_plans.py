"""A lead's next follow-up as a plan (plans.py): every change to the next follow-up, the owner,
the status or the deletion tells ``leads_followup_planned`` what happened — planned, moved, done,
cancelled, or nothing — and what a user does to the plan's task on the calendar
(``calendar_item_changed``) moves or clears the lead's next follow-up, within the user's write
scope, and only for the calendar's items of leads."""

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from addons.leads import assignment, plans, pool, services, transfer
from addons.leads.conversion import convert_lead
from addons.leads.models import Lead, LeadPool
from core.access.exceptions import RecordNotFound
from core.addons.installer import install_addons
from core.models import AuditEntry
from tests.fixtures.addons.leadplanwatch.hooks import EVENTS

from .conftest import as_user

NOW = dt.datetime(2031, 5, 5, 1, 0, tzinfo=dt.UTC)
TUESDAY = dt.datetime(2031, 5, 6, 2, 0, tzinfo=dt.UTC)
FRIDAY = dt.datetime(2031, 5, 9, 6, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def catalog(catalog_of):
    """Customers, leads and a calendar stand-in that records the plan hook's calls."""
    return catalog_of("addons.customers", "addons.leads", "tests.fixtures.addons.leadplanwatch")


@pytest.fixture
def watched(company, catalog):
    env, users = company
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["leadplanwatch"])
    EVENTS.clear()
    return env, users


@dataclasses.dataclass(frozen=True)
class Change:
    """What the calendar's ``calendar_item_changed`` passes (``addons.calendar.services.ItemChange``)."""

    source_id: int
    state: str
    due_at: dt.datetime | None = None
    owner_id: int | None = None
    item_id: int = 1
    source: str = "leads.lead"


def user(ctx, users, who="zhang", now=NOW):
    ctx = as_user(ctx, users[who])
    ctx.now = now
    return ctx


def make(env, users, name="甲线索", who="zhang", **fields):
    with env.ctx() as ctx:
        return services.create_lead(user(ctx, users, who), name=name, **fields).id


def company_pool(env):
    with env.ctx() as ctx:
        return ctx.dbsession.scalars(select(LeadPool.id).where(LeadPool.department_id.is_(None))).one()


def in_pool(env, name="池中线索", **fields):
    """A lead in the company-wide pool: ``(lead_id, pool_id)``."""
    pool_id = company_pool(env)
    with env.ctx() as ctx:
        ctx.now = NOW
        return services.create_lead(ctx, name=name, pool_id=pool_id, **fields).id, pool_id


def next_followup(env, lead_id):
    with env.ctx() as ctx:
        return ctx.dbsession.get(Lead, lead_id).next_followup_at


def calendar(env, users, change, who="zhang", now=NOW):
    """The calendar tells the leads addon, through the hook relay as the calendar does."""
    with env.ctx() as ctx:
        ctx.hooks.calendar_item_changed(ctx=user(ctx, users, who, now), change=change)


# -- from the leads' own changes ------------------------------------------------------------------

def test_a_lead_created_with_a_next_follow_up_is_planned_for_its_owner(watched):
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY)
    [event] = EVENTS
    assert event == plans.LeadPlanEvent(plan_id=lead_id, lead_id=lead_id, lead_name="甲线索",
                                        owner_id=users["zhang"], due_at=TUESDAY, title="甲线索",
                                        state="planned", url=f"/leads/{lead_id}")
    EVENTS.clear()
    make(env, users, name="没有下次跟进")
    in_pool(env, next_followup_at=TUESDAY)  # in a pool: nobody's plan
    assert EVENTS == []


def test_editing_the_next_follow_up_moves_clears_or_plans_it(watched):
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY)
    bare = make(env, users, name="乙线索")
    EVENTS.clear()
    with env.ctx() as ctx:
        zhang = user(ctx, users)
        services.update_lead(zhang, lead_id, next_followup_at=FRIDAY)
        services.update_lead(zhang, lead_id, remarks="改了备注")  # the plan as it was: nothing
        services.update_lead(zhang, lead_id, next_followup_at=None)
        services.update_lead(zhang, bare, status="nurture")  # nurture sets a next follow-up
    assert [(e.lead_id, e.state, e.due_at) for e in EVENTS] == [
        (lead_id, "moved", FRIDAY), (lead_id, "cancelled", FRIDAY), (bare, "planned", NOW + 30 * DAY)]


def test_closing_or_deleting_a_lead_cancels_its_plan(watched):
    env, users = watched
    lost = make(env, users, name="丢单", next_followup_at=TUESDAY)
    deleted = make(env, users, name="删除", next_followup_at=FRIDAY)
    EVENTS.clear()
    with env.ctx() as ctx:
        services.update_lead(user(ctx, users), lost, status="disqualified")
        services.delete_lead(ctx, deleted)
    assert [(e.lead_id, e.state, e.due_at, e.owner_id) for e in EVENTS] == [
        (lost, "cancelled", TUESDAY, users["zhang"]), (deleted, "cancelled", FRIDAY, users["zhang"])]


def test_a_follow_up_with_a_new_next_time_moves_the_plan_one_without_leaves_it(watched):
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY)
    bare = make(env, users, name="乙线索")
    EVENTS.clear()
    with env.ctx() as ctx:
        zhang = user(ctx, users)
        services.add_followup(zhang, lead_id, kind="phone", content="约了周五", next_at=FRIDAY)
        services.add_followup(zhang, lead_id, kind="phone", content="又打了一次")  # still due Friday
        services.add_followup(zhang, bare, kind="phone", content="第一次", next_at=TUESDAY)
    assert [(e.lead_id, e.state, e.due_at) for e in EVENTS] == [(lead_id, "moved", FRIDAY),
                                                                (bare, "planned", TUESDAY)]


def test_conversion_cancels_the_leads_plan(watched):
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY, status="qualified")
    EVENTS.clear()
    with env.ctx() as ctx:
        convert_lead(user(ctx, users), lead_id)
    assert [(e.lead_id, e.state, e.due_at) for e in EVENTS] == [(lead_id, "cancelled", TUESDAY)]


def test_the_pool_cancels_a_plan_and_a_claim_plans_it_again(watched):
    env, users = watched
    lead_id, pool_id = in_pool(env, next_followup_at=TUESDAY)
    bare, _pool = in_pool(env, name="没有下次跟进")
    with env.ctx() as ctx:
        claimed = pool.claim_leads(user(ctx, users), [lead_id, bare])
        assert [lead.id for lead in claimed] == [lead_id, bare]
    assert [(e.lead_id, e.state, e.owner_id, e.due_at) for e in EVENTS] == [
        (lead_id, "planned", users["zhang"], TUESDAY)]
    EVENTS.clear()
    with env.ctx() as ctx:
        pool.return_lead(user(ctx, users), lead_id, pool_id, "暂无需求")
        pool.return_lead(user(ctx, users), bare, pool_id, "暂无需求")
    assert [(e.lead_id, e.state, e.owner_id, e.due_at) for e in EVENTS] == [
        (lead_id, "cancelled", users["zhang"], TUESDAY)]
    assert next_followup(env, lead_id) == TUESDAY  # kept on the lead, for whoever claims it


def test_the_automatic_return_cancels_the_plan(watched):
    env, users = watched
    with env.ctx() as ctx:
        stale_pool = pool.save_pool(ctx, name="三天池", return_after_days=3).id
        lead_id = services.create_lead(ctx, name="久未跟进", pool_id=stale_pool, next_followup_at=TUESDAY).id
    with env.ctx() as ctx:
        pool.claim_leads(user(ctx, users, now=NOW - 5 * DAY), [lead_id])
    EVENTS.clear()
    with env.ctx() as ctx:
        ctx.now = NOW
        assert pool.auto_return_due(ctx) == {"returned": 1}
    assert [(e.lead_id, e.state, e.owner_id) for e in EVENTS] == [(lead_id, "cancelled", users["zhang"])]


def test_a_transfer_moves_the_plan_to_the_new_owner_and_a_rule_plans_it(watched):
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY)
    with env.ctx() as ctx:
        assignment.save_rule(ctx, name="都给李四", strategy="user", user_id=users["lisi"])
    EVENTS.clear()
    with env.ctx() as ctx:
        assert transfer.assign_leads(user(ctx, users, "wang"), [lead_id], users["lisi"]) == 1
        assert transfer.assign_leads(user(ctx, users, "wang"), [lead_id], users["lisi"]) == 0  # no change
    assert [(e.state, e.owner_id, e.due_at) for e in EVENTS] == [("moved", users["lisi"], TUESDAY)]
    EVENTS.clear()
    with env.ctx() as ctx:
        ruled = services.create_lead(ctx, name="规则分配", pool_id=company_pool(env), assign=True,
                                     next_followup_at=FRIDAY).id
    assert [(e.lead_id, e.state, e.owner_id, e.due_at) for e in EVENTS] == [
        (ruled, "planned", users["lisi"], FRIDAY)]


# -- back from the calendar -----------------------------------------------------------------------

def test_a_task_moved_on_the_calendar_moves_the_next_follow_up_audited_and_told(watched):
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY)
    EVENTS.clear()
    calendar(env, users, Change(lead_id, "moved", due_at=FRIDAY, owner_id=users["zhang"]))
    assert next_followup(env, lead_id) == FRIDAY
    with env.ctx() as ctx:
        audited = ctx.dbsession.scalars(select(AuditEntry.changes).where(
            AuditEntry.model == "leads_lead", AuditEntry.record_id == str(lead_id)).order_by(AuditEntry.id)).all()
        assert audited[-1] == {"next_followup_at": [TUESDAY.isoformat(), FRIDAY.isoformat()]}
    assert [(e.state, e.due_at) for e in EVENTS] == [("moved", FRIDAY)]  # the calendar ignores its echo
    EVENTS.clear()
    calendar(env, users, Change(lead_id, "moved", due_at=FRIDAY))  # where it is already: nothing
    calendar(env, users, Change(lead_id, "reopened", due_at=FRIDAY))
    assert (EVENTS, next_followup(env, lead_id)) == ([], FRIDAY)


def test_a_task_done_or_deleted_on_the_calendar_clears_the_next_follow_up(watched):
    env, users = watched
    done = make(env, users, name="做完了", next_followup_at=TUESDAY)
    deleted = make(env, users, name="删掉了", next_followup_at=FRIDAY)
    EVENTS.clear()
    calendar(env, users, Change(done, "done", due_at=TUESDAY))
    calendar(env, users, Change(deleted, "deleted", due_at=FRIDAY))
    assert (next_followup(env, done), next_followup(env, deleted)) == (None, None)
    assert [(e.lead_id, e.state) for e in EVENTS] == [(done, "done"), (deleted, "cancelled")]


def test_a_nurtured_lead_done_on_the_calendar_moves_on_by_its_cadence(watched):
    env, users = watched
    lead_id = make(env, users, status="nurture", nurture_days=7)
    EVENTS.clear()
    later = NOW + 7 * DAY
    calendar(env, users, Change(lead_id, "done", due_at=NOW + 7 * DAY), now=later)
    assert next_followup(env, lead_id) == later + 7 * DAY
    assert [(e.state, e.due_at) for e in EVENTS] == [("moved", later + 7 * DAY)]


def test_other_calendar_items_and_leads_without_a_plan_are_left_alone(watched):
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY)
    pooled, _pool = in_pool(env, next_followup_at=TUESDAY)
    converted = make(env, users, name="已转化", next_followup_at=TUESDAY, status="qualified")
    with env.ctx() as ctx:
        convert_lead(user(ctx, users), converted)
    EVENTS.clear()
    with env.ctx() as ctx:  # not ours (straight to the leads' side: the customers' plans have their own)
        assert plans.apply_calendar_change(user(ctx, users), Change(lead_id, "done", source="customers.plan")) is None
    calendar(env, users, Change(pooled, "moved", due_at=FRIDAY))  # nobody's plan: no error either
    calendar(env, users, Change(converted, "deleted"))
    calendar(env, users, Change(999999, "done"))
    assert [next_followup(env, i) for i in (lead_id, pooled, converted)] == [TUESDAY] * 3
    assert EVENTS == []


def test_a_lead_outside_the_users_write_scope_refuses_the_calendars_change(watched):
    """lisi (own scope) cannot move zhangsan's lead from a calendar; the calendar undoes the
    user's change on the refusal."""
    env, users = watched
    lead_id = make(env, users, next_followup_at=TUESDAY)
    EVENTS.clear()
    for change in (Change(lead_id, "moved", due_at=FRIDAY), Change(lead_id, "done")):
        with pytest.raises(RecordNotFound):
            calendar(env, users, change, who="lisi")
    calendar(env, users, Change(lead_id, "moved", due_at=FRIDAY), who="wang")  # the manager may
    assert next_followup(env, lead_id) == FRIDAY
    assert [(e.state, e.owner_id) for e in EVENTS] == [("moved", users["zhang"])]
