"""Follow-up plans (跟进计划) and their reminders (K2).

A follow-up with a "next follow-up" time makes a plan owned by the follow-up's author: the one
who promised the call is the one reminded and whose calendar shows it (a manager logging a
visit on a salesperson's customer plans their own next step, not the salesperson's). Only
without an acting user (import, system) does the plan go to the customer's owner.

The author's next follow-up on the customer completes their open plans for it; plans are also
moved, completed or cancelled from the customer page by whoever may change them (the
``customers.plan:write`` scope). ``Customer.next_followup_at`` is kept equal to the customer's
earliest open plan. Every change is audited and offered to other addons through the hook
``customers_followup_planned`` (the calendar addon puts plans on the schedule).

Reminders: the periodic job ``customers.plans.remind`` tells each due plan's owner once
(notification kind ``customers.followup_due``). "Once" holds with several workers: a plan is
taken by a conditional ``UPDATE … WHERE reminded_at IS NULL`` and only the transaction whose
update changed the row notifies; moving a plan clears ``reminded_at``, so it is reminded again
at its new time; done and cancelled plans never are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from core.access.recycle import live
from core.access.scopes import get_in_scope, scope_condition
from core.changes import record_changed as _record
from core.context import Ctx
from core.i18n import _
from core.models import User
from core.notifications.services import notify

from .exceptions import DueRequired, PlanClosed
from .models import Customer, Followup, FollowupPlan

PLANNED, DONE, CANCELLED = "planned", "done", "cancelled"
STATES = (PLANNED, DONE, CANCELLED)
REMINDER_KIND = "customers.followup_due"
#: How the calendar names these plans (``CalendarItem.source``).
SOURCE = "customers.plan"
#: Plans reminded by one run of the job at most; the next run (minutes later) takes the rest.
REMIND_BATCH = 500


@dataclasses.dataclass(frozen=True)
class PlanEvent:
    """What ``customers_followup_planned`` receives. ``state`` is what just happened: planned,
    moved, done or cancelled. ``title`` is the next step, or the customer's name when none was
    given; ``due_at`` is aware UTC; ``url`` is the customer page's path, at the plan."""

    plan_id: int
    customer_id: int
    customer_name: str
    owner_id: int | None
    due_at: dt.datetime
    title: str
    state: str
    url: str


# ---------------------------------------------------------------- reading


def customer_plans(ctx: Ctx, customer_id: int, limit: int = 50) -> list[FollowupPlan]:
    """The customer's plans, open ones first by due time, then the closed ones newest first;
    whoever may see the customer sees its plans (D-SCOPE), with their owners loaded."""
    ctx.access.require("customers.plan:read")
    visible = select(Customer.id).where(Customer.id == customer_id, scope_condition(ctx, Customer))
    return list(ctx.dbsession.scalars(
        select(FollowupPlan).where(FollowupPlan.customer_id.in_(visible))
        .options(selectinload(FollowupPlan.owner).lazyload(User.roles))
        .order_by((FollowupPlan.state == PLANNED).desc(), FollowupPlan.done_at.desc().nulls_first(),
                  FollowupPlan.due_at, FollowupPlan.id)
        .limit(limit)))


def get_plan(ctx: Ctx, plan_id: int, action: str = "read") -> FollowupPlan:
    """The plan, or RecordNotFound (404) outside the user's scope for ``action``."""
    return get_in_scope(ctx, FollowupPlan, plan_id, action)


def may_change(ctx: Ctx, plan_ids: list[int]) -> set[int]:
    """Which of ``plan_ids`` the user may move, complete or cancel (the buttons to show)."""
    if not plan_ids or not ctx.access.can("customers.plan:write"):
        return set()
    return set(ctx.dbsession.scalars(select(FollowupPlan.id).where(
        FollowupPlan.id.in_(plan_ids), scope_condition(ctx, FollowupPlan, "write"))))


# ---------------------------------------------------------------- from a follow-up


def plan_from_followup(ctx: Ctx, customer: Customer, followup: Followup) -> FollowupPlan | None:
    """Called by ``services.add_followup``: the author's open plans for the customer are done
    (this follow-up is the one they planned), and the follow-up's ``next_at`` becomes a new
    plan. Keeps the customer's next follow-up (the earliest open plan); returns the new plan."""
    author = followup.owner_id
    open_: list[FollowupPlan] = []
    if author is not None:
        open_ = list(ctx.dbsession.scalars(select(FollowupPlan).where(
            FollowupPlan.customer_id == customer.id, FollowupPlan.owner_id == author,
            FollowupPlan.state == PLANNED).order_by(FollowupPlan.due_at, FollowupPlan.id)))
        for plan in open_:
            _close(ctx, customer, plan, DONE)
    plan = None
    if followup.next_at is not None:
        plan = FollowupPlan(customer_id=customer.id, owner_id=author if author is not None else customer.owner_id,
                            due_at=followup.next_at, title=followup.next_step or "", state=PLANNED,
                            followup_id=followup.id)
        ctx.dbsession.add(plan)
        ctx.dbsession.flush()
        _record(ctx, "created", plan, {"due_at": (None, plan.due_at), "title": (None, plan.title),
                                       "owner_id": (None, plan.owner_id)})
        _announce(ctx, customer, plan, PLANNED)
    if open_ or plan is not None:  # a next follow-up set without plans (imported) stays as it is
        customer.next_followup_at = next_followup_of(ctx, customer.id)
        ctx.dbsession.flush()
    return plan


# ---------------------------------------------------------------- changes from the customer page


def move_plan(ctx: Ctx, plan_id: int, due_at: dt.datetime | None) -> FollowupPlan:
    """A new due time (aware); the plan will be reminded again then. RecordNotFound (404)
    outside the user's write scope, PlanClosed for a plan done or cancelled."""
    plan = _open_plan(ctx, plan_id)
    if due_at is None:
        raise DueRequired()
    customer = ctx.dbsession.get_one(Customer, plan.customer_id)
    before = plan.due_at
    plan.due_at, plan.reminded_at = due_at, None
    ctx.dbsession.flush()
    _record(ctx, "updated", plan, {"due_at": (before, due_at)})
    _announce(ctx, customer, plan, "moved")
    _sync_next(ctx, customer)
    return plan


def complete_plan(ctx: Ctx, plan_id: int) -> FollowupPlan:
    """Mark an open plan done (the follow-up happened and needs no record of its own)."""
    plan = _open_plan(ctx, plan_id)
    customer = ctx.dbsession.get_one(Customer, plan.customer_id)
    _close(ctx, customer, plan, DONE)
    _sync_next(ctx, customer)
    return plan


def cancel_plan(ctx: Ctx, plan_id: int) -> FollowupPlan:
    """Cancel an open plan: no reminder, off the calendar."""
    plan = _open_plan(ctx, plan_id)
    customer = ctx.dbsession.get_one(Customer, plan.customer_id)
    _close(ctx, customer, plan, CANCELLED)
    _sync_next(ctx, customer)
    return plan


def apply_calendar_change(ctx: Ctx, change: Any) -> None:
    """The calendar's ``calendar_item_changed``: a plan's task moved, done or deleted there moves,
    completes or cancels the plan, as the same user on the customer page would (their write
    scope). A plan already closed stays as it is; a reopened task cannot reopen a plan."""
    if change.source != SOURCE:
        return
    actions = {"moved": lambda: move_plan(ctx, change.source_id, change.due_at),
               "done": lambda: complete_plan(ctx, change.source_id),
               "deleted": lambda: cancel_plan(ctx, change.source_id)}
    if change.state not in actions:
        return
    plan = ctx.dbsession.get(FollowupPlan, change.source_id)
    if plan is None or plan.state != PLANNED or (change.state == "moved" and plan.due_at == change.due_at):
        return
    actions[change.state]()


def next_followup_of(ctx: Ctx, customer_id: int) -> dt.datetime | None:
    """The customer's earliest open plan: what ``Customer.next_followup_at`` shows."""
    return ctx.dbsession.scalar(select(func.min(FollowupPlan.due_at)).where(
        FollowupPlan.customer_id == customer_id, FollowupPlan.state == PLANNED))


# ---------------------------------------------------------------- reminders


def remind_due_plans(ctx: Ctx, *, limit: int = REMIND_BATCH) -> int:
    """The periodic job: tell the owner of each open plan due by ``ctx.now`` and not yet
    reminded, once; plans of customers in the recycle bin wait. Returns how many reminders
    this run sent."""
    due = ctx.dbsession.execute(
        select(FollowupPlan.id, FollowupPlan.owner_id, FollowupPlan.title, FollowupPlan.customer_id,
               Customer.name, Customer.owner_id)
        .join(Customer, Customer.id == FollowupPlan.customer_id)
        .where(FollowupPlan.state == PLANNED, FollowupPlan.reminded_at.is_(None), FollowupPlan.due_at <= ctx.now,
               live(Customer))  # a customer in the recycle bin: reminded if restored
        .order_by(FollowupPlan.due_at, FollowupPlan.id).limit(limit)).all()
    sent = 0
    for plan_id, owner_id, title, customer_id, name, customer_owner in due:
        if not claim_reminder(ctx, plan_id):
            continue  # another worker reminded it, or it was closed meanwhile
        recipient = owner_id if owner_id is not None else customer_owner
        if recipient is None:
            continue
        message = (_("Time to follow up “${name}”: ${step}", mapping={"name": name, "step": title}) if title
                   else _("Time to follow up “${name}”.", mapping={"name": name}))
        notify(ctx, [recipient], REMINDER_KIND, None, message, url=f"/customers/{customer_id}#plan-{plan_id}")
        sent += 1
    ctx.dbsession.flush()
    return sent


def claim_reminder(ctx: Ctx, plan_id: int) -> bool:
    """Take the plan's reminder for this transaction: true for exactly one caller. On
    PostgreSQL a second transaction's UPDATE waits for the first's row lock and then finds
    ``reminded_at`` set; SQLite runs one writer at a time."""
    result = ctx.dbsession.execute(
        update(FollowupPlan)
        .where(FollowupPlan.id == plan_id, FollowupPlan.state == PLANNED, FollowupPlan.reminded_at.is_(None))
        .values(reminded_at=ctx.now).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def remind_job(ctx: Ctx) -> dict[str, int]:
    """``customers.plans.remind`` (kehu_periodic_jobs)."""
    return {"reminded": remind_due_plans(ctx)}


# ---------------------------------------------------------------- helpers


def hand_over(ctx: Ctx, customer: Customer, previous_owner_id: int | None, owner_id: int) -> int:
    """转移: the previous owner's open plans for the customer go with it to the new owner (their
    reminders and calendar entries follow: "moved"); others' plans stay theirs. Returns how many."""
    if previous_owner_id is None:
        return 0
    plans = list(ctx.dbsession.scalars(select(FollowupPlan).where(
        FollowupPlan.customer_id == customer.id, FollowupPlan.owner_id == previous_owner_id,
        FollowupPlan.state == PLANNED).order_by(FollowupPlan.id)))
    for plan in plans:
        plan.owner_id = owner_id
        ctx.dbsession.flush()
        _record(ctx, "updated", plan, {"owner_id": (previous_owner_id, owner_id)})
        _announce(ctx, customer, plan, "moved")
    return len(plans)


def _open_plan(ctx: Ctx, plan_id: int) -> FollowupPlan:
    plan = get_in_scope(ctx, FollowupPlan, plan_id, "write")
    if plan.state != PLANNED:
        raise PlanClosed()
    return plan


def _close(ctx: Ctx, customer: Customer, plan: FollowupPlan, state: str) -> None:
    plan.state, plan.done_at = state, ctx.now
    ctx.dbsession.flush()
    _record(ctx, "updated", plan, {"state": (PLANNED, state)})
    _announce(ctx, customer, plan, state)


def _sync_next(ctx: Ctx, customer: Customer) -> None:
    """Keep the customer's next follow-up = its earliest open plan, audited when it changes."""
    ctx.dbsession.flush()
    before, after = customer.next_followup_at, next_followup_of(ctx, customer.id)
    if before != after:
        customer.next_followup_at = after
        ctx.dbsession.flush()
        _record(ctx, "updated", customer, {"next_followup_at": (before, after)})


def _announce(ctx: Ctx, customer: Customer, plan: FollowupPlan, state: str) -> None:
    ctx.hooks.customers_followup_planned(ctx=ctx, plan=PlanEvent(
        plan_id=plan.id, customer_id=customer.id, customer_name=customer.name, owner_id=plan.owner_id,
        due_at=plan.due_at, title=plan.title or customer.name, state=state,
        url=f"/customers/{customer.id}#plan-{plan.id}"))
