"""A lead's next follow-up as a plan (跟进计划) other addons may follow: the calendar puts it on
the owner's schedule through ``leads_followup_planned`` and tells changes made there back
through ``calendar_item_changed``.

One lead, one plan: ``plan_id`` is the lead's id, and the plan is ``Lead.next_followup_at``
itself — there is no table of plans. A lead *has* a plan while it is open (``OPEN_STATUSES``),
owned, not in the recycle bin and has a next follow-up; the plan is then due at that time and
owned by the lead's owner (``plan_state``). Every service that changes one of those takes
``plan_state(lead)`` before its change and calls ``announce`` after it, which compares and
tells what just happened:

* no plan → a plan: **planned** (created with a next follow-up, a first next follow-up set,
  claimed or assigned out of a pool with one, entering nurture);
* a plan → another due time or owner: **moved** — also when a follow-up was recorded with a
  new next time (the plan is the lead's, so the old time is not "done": it is moved on), and
  when a lead in nurture is ticked off on the calendar and moves on by its cadence;
* a plan → none: **cancelled** (returned to a pool, automatically or not; disqualified;
  converted; deleted; next follow-up cleared), or **done** when a follow-up is what ended it
  (the calendar task ticked off, ``followed_up=True``);
* same due time and owner: nothing — also after a follow-up without a next time, which leaves
  the lead's next follow-up (still due on its page and the workbench) as it was, and so the
  calendar's task. A rename is not told either: the calendar links the task to the lead.

The event carries the plan as it now is (planned, moved) or as it last was (done, cancelled).
An addon installed later may hear "moved", "done" or "cancelled" of a plan it never saw
planned: it should take "moved" as planned and ignore the others. Leads written by bulk
INSERT (the demo data) are not announced.

Back from the calendar (``apply_calendar_change``, items of source ``leads.lead``): moved sets
the next follow-up to the item's time; done clears it (a lead in nurture moves on by its
cadence instead) — a tick on the calendar records no follow-up, so the lead's last follow-up
and its pool's return clock stay; deleted clears it; reopened changes nothing. The item's
owner is not the lead's: ownership changes through the pool and assignment only. A lead that
no longer has a plan is left alone without an error; one the user may not edit
(``leads.lead:write`` in scope) refuses with RecordNotFound, and the calendar undoes the
user's change. Each change is audited and announced like any other; the calendar ignores the
echo.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from core.access.scopes import get_in_scope
from core.changes import record_changed
from core.context import Ctx

from .models import OPEN_STATUSES, Lead

PLANNED, MOVED, DONE, CANCELLED = "planned", "moved", "done", "cancelled"
#: The ``source`` of the calendar items that are leads' plans.
SOURCE = "leads.lead"

#: What a plan is made of, for comparing before and after a change: (due_at, owner_id).
PlanState = tuple[dt.datetime, int]


@dataclasses.dataclass(frozen=True)
class LeadPlanEvent:
    """What ``leads_followup_planned`` receives. ``state`` is what just happened: planned,
    moved, done or cancelled; ``plan_id`` is the lead's id (one plan per lead); ``due_at`` is
    aware UTC; ``title`` the lead's name; ``url`` the lead's page."""

    plan_id: int
    lead_id: int
    lead_name: str
    owner_id: int | None
    due_at: dt.datetime
    title: str
    state: str
    url: str


# ---------------------------------------------------------------- telling others


def plan_state(lead: Lead) -> PlanState | None:
    """The lead's plan as ``(due_at, owner_id)``, or None when it has none: closed (converted,
    disqualified), in a pool, in the recycle bin, or without a next follow-up."""
    if (lead.next_followup_at is None or lead.owner_id is None or lead.deleted_at is not None
            or lead.status not in OPEN_STATUSES):
        return None
    return lead.next_followup_at, lead.owner_id


def transition(before: PlanState | None, after: PlanState | None, *, followed_up: bool = False) -> str | None:
    """What happened to the plan between ``before`` and ``after`` (see the module's docstring),
    or None when nothing did."""
    if before is None:
        return PLANNED if after is not None else None
    if after is None:
        return DONE if followed_up else CANCELLED
    return MOVED if after != before else None


def announce(ctx: Ctx, lead: Lead, before: PlanState | None, *, followed_up: bool = False) -> str | None:
    """Tell ``leads_followup_planned`` what a change did to the lead's plan, ``before`` being
    ``plan_state(lead)`` taken before it; ``followed_up`` when a follow-up ended the plan.
    Returns the state told, or None when the plan did not change."""
    after = plan_state(lead)
    state = transition(before, after, followed_up=followed_up)
    told = after if after is not None else before  # as it now is, or as it last was
    if state is None or told is None:
        return None
    due_at, owner_id = told
    ctx.hooks.leads_followup_planned(ctx=ctx, plan=LeadPlanEvent(
        plan_id=lead.id, lead_id=lead.id, lead_name=lead.name, owner_id=owner_id, due_at=due_at,
        title=lead.name, state=state, url=f"/leads/{lead.id}"))
    return state


# ---------------------------------------------------------------- back from the calendar


def apply_calendar_change(ctx: Ctx, change: Any) -> Lead | None:
    """``calendar_item_changed``: make the lead agree with what the user did to its task on the
    calendar. Items of other sources and "reopened" are none of ours; returns the lead changed,
    or None."""
    if change.source != SOURCE:
        return None
    if change.state == "moved" and change.due_at is not None:
        return move_next_followup(ctx, change.source_id, change.due_at)
    if change.state in ("done", "deleted"):
        return end_next_followup(ctx, change.source_id, done=change.state == "done")
    return None


def move_next_followup(ctx: Ctx, lead_id: int, due_at: dt.datetime) -> Lead | None:
    """The lead's next follow-up moves to ``due_at`` (aware). None, and nothing changed, for a
    lead without a plan; RecordNotFound for one outside the user's write scope."""
    lead = _planned_lead(ctx, lead_id)
    if lead is None:
        return None
    _set_next(ctx, lead, due_at, followed_up=False)
    return lead


def end_next_followup(ctx: Ctx, lead_id: int, *, done: bool) -> Lead | None:
    """The lead's next follow-up is cleared: done (it happened — a lead in nurture then moves
    on by its cadence, from now) or not wanted any more. None, and nothing changed, for a lead
    without a plan; RecordNotFound for one outside the user's write scope."""
    lead = _planned_lead(ctx, lead_id)
    if lead is None:
        return None
    due_at = None
    if done and lead.status == "nurture":
        from .services import NURTURE_DAYS  # the services build on plans, not the other way round

        due_at = ctx.now + dt.timedelta(days=lead.nurture_days or NURTURE_DAYS)
    _set_next(ctx, lead, due_at, followed_up=done)
    return lead


def _planned_lead(ctx: Ctx, lead_id: int) -> Lead | None:
    """The lead, in the user's write scope, if it still has a plan. A lead without one is
    looked at before the scope: one gone back to a pool is nobody's to refuse."""
    lead = ctx.dbsession.get(Lead, lead_id)
    if lead is None or plan_state(lead) is None:
        return None
    return get_in_scope(ctx, Lead, lead_id, "write")


def _set_next(ctx: Ctx, lead: Lead, due_at: dt.datetime | None, *, followed_up: bool) -> None:
    before = plan_state(lead)
    previous = lead.next_followup_at
    if previous == due_at:
        return
    lead.next_followup_at = due_at
    ctx.dbsession.flush()
    record_changed(ctx, "updated", lead, {"next_followup_at": (previous, due_at)})
    announce(ctx, lead, before, followed_up=followed_up)
