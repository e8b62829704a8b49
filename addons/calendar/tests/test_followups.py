"""Follow-up plans of the customers addon on the calendar and back (K2): a plan made by a
follow-up is a task on its owner's calendar linked to the customer; moving, completing or
deleting the task moves, completes or cancels the plan, and the other way round; without the
customers addon the calendar works and nothing fails."""

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from addons.calendar import services
from addons.calendar.models import CalendarItem
from addons.calendar.occurrences import get_item
from addons.customers import plans
from addons.customers.models import FollowupPlan
from addons.customers.services import add_followup, create_customer
from core.addons.installer import install_addons

from .conftest import as_user, people

UTC = dt.UTC
DUE = dt.datetime(2026, 12, 9, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.customers", "addons.calendar")


@pytest.fixture
def company(kehu_db, cli_env, catalog):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["customers", "calendar"])
    return env, people(env)


def planned(env, users, who="zhang", name="阿里巴巴"):
    """A customer of ``who`` and a follow-up planning the next one at DUE: (customer, plan) ids."""
    with env.ctx() as ctx:
        me = as_user(ctx, users[who])
        customer = create_customer(me, name=name)
        add_followup(me, customer.id, kind="phone", content="初次电话", next_at=DUE, next_step="送样品")
        plan = ctx.dbsession.scalar(select(FollowupPlan).where(FollowupPlan.customer_id == customer.id))
        return customer.id, plan.id


def task_of(env, plan_id):
    with env.ctx() as ctx:
        item = ctx.dbsession.scalar(select(CalendarItem).where(CalendarItem.source == "customers.plan",
                                                               CalendarItem.source_id == plan_id))
        if item is not None:
            ctx.dbsession.expunge(item)
        return item


def plan_of(env, plan_id):
    with env.ctx() as ctx:
        plan = ctx.dbsession.get(FollowupPlan, plan_id)
        ctx.dbsession.expunge(plan)
        return plan


def test_a_planned_follow_up_is_a_task_on_the_owners_calendar_linked_to_the_customer(company):
    env, users = company
    customer_id, plan_id = planned(env, users)
    task = task_of(env, plan_id)
    assert (task.kind, task.type, task.title, task.owner_id) == ("task", "followup", "送样品", users["zhang"])
    assert (task.start_at, task.related_table, task.related_id) == (DUE, "customers_customer", customer_id)
    assert task.tzid == "Asia/Shanghai" and task.done_at is None


def test_moving_completing_and_cancelling_the_plan_follow_on_the_calendar(company):
    env, users = company
    _customer_id, plan_id = planned(env, users)
    later = DUE + dt.timedelta(days=1)
    with env.ctx() as ctx:
        plans.move_plan(as_user(ctx, users["zhang"]), plan_id, later)
    assert task_of(env, plan_id).start_at == later
    with env.ctx() as ctx:
        plans.complete_plan(as_user(ctx, users["zhang"]), plan_id)
    assert task_of(env, plan_id).done_at is not None
    _customer_id, other = planned(env, users, name="腾讯")
    with env.ctx() as ctx:
        plans.cancel_plan(as_user(ctx, users["zhang"]), other)
    assert task_of(env, other) is None


def test_the_next_follow_up_completes_the_task_and_plans_the_next(company):
    env, users = company
    customer_id, plan_id = planned(env, users)
    with env.ctx() as ctx:
        add_followup(as_user(ctx, users["zhang"]), customer_id, kind="visit", content="送了样品",
                     next_at=DUE + dt.timedelta(days=7))
    assert task_of(env, plan_id).done_at is not None
    with env.ctx() as ctx:
        titles = ctx.dbsession.scalars(select(CalendarItem.done_at.is_(None)).order_by(CalendarItem.id)).all()
        assert titles == [False, True]


def test_completing_moving_and_deleting_the_task_change_the_plan(company):
    env, users = company
    _customer_id, plan_id = planned(env, users)
    task_id = task_of(env, plan_id).id
    with env.ctx() as ctx:
        me = as_user(ctx, users["zhang"])
        data = services.data_of(get_item(me, task_id))
        services.update_item(me, task_id, dataclasses.replace(data, start=dt.datetime(2026, 12, 10, 15, 0)))
    assert plan_of(env, plan_id).due_at == dt.datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    with env.ctx() as ctx:
        services.set_done(as_user(ctx, users["zhang"]), task_id)
    assert plan_of(env, plan_id).state == "done"
    _customer_id, other = planned(env, users, name="腾讯")
    with env.ctx() as ctx:
        services.delete_item(as_user(ctx, users["zhang"]), task_of(env, other).id)
    assert plan_of(env, other).state == "cancelled"


def test_a_plan_handed_over_moves_to_the_new_owners_calendar(company):
    env, users = company
    customer_id, plan_id = planned(env, users)
    with env.ctx() as ctx:
        from addons.customers.services import assign_customers

        assign_customers(as_user(ctx, users["wang"]), [customer_id], users["lisi"])
    task = task_of(env, plan_id)
    assert (task.owner_id, task.tzid, task.start_at) == (users["lisi"], "America/New_York", DUE)


def test_without_the_customers_addon_the_calendar_works(kehu_db, cli_env, catalog_of):
    catalog = catalog_of("addons.calendar")
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["calendar"])
    users = people(env)
    with env.ctx() as ctx:
        item = services.create_item(as_user(ctx, users["zhang"]), services.ItemData(
            title="独立日程", kind="task", start=dt.datetime(2026, 12, 9, 10, 0)))
        services.set_done(as_user(ctx, users["zhang"]), item.id)
        # a linked record of an addon that is not installed is refused, not an error page
        with pytest.raises(Exception, match="linked record"):
            services.create_item(as_user(ctx, users["zhang"]), services.ItemData(
                title="x", start=dt.datetime(2026, 12, 9, 10, 0), related_table="customers_customer", related_id=1))
