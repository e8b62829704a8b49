"""Follow-up plans of other addons on the calendar (K2, seed 002 §4.5.3).

The customers and leads addons announce their plans through their own hooks
(``customers_followup_planned``, ``leads_followup_planned``); the calendar keeps one task per
plan, owned by the plan's owner, of type "followup", linked to the customer or lead, and named by
``source`` / ``source_id`` (``customers.plan``, 12). Planned or moved: the task is made or moved;
done: it is done; cancelled: it goes. The source addon reminds of its plans itself, so these tasks
carry no reminders of their own. What a user does to such a task here is told back through
``calendar_item_changed`` (services); while either side applies the other's change, nothing is
told back (``services.quietly``), so nothing echoes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from core.context import Ctx
from core.models import User

from .models import CalendarItem
from .occurrences import item_loads
from .services import ItemData, exchanging, place_item, quietly, remove_item, rewrite_item
from .times import wall, zone


def apply_plan(ctx: Ctx, source: str, plan: Any, related_table: str, related_id: int) -> CalendarItem | None:
    """Make the calendar agree with the plan; returns its task (None once it is gone). The
    source's answer to a change told from here is an echo and is left alone."""
    if exchanging():
        return None
    item = ctx.dbsession.scalar(select(CalendarItem).where(
        CalendarItem.source == source, CalendarItem.source_id == plan.plan_id).options(*item_loads())
        .order_by(CalendarItem.id).limit(1))
    with quietly():
        if plan.state == "cancelled" or plan.owner_id is None:
            if item is not None:
                remove_item(ctx, item)
            return None
        if plan.state == "done":
            if item is not None and item.done_at is None:
                item.done_at = ctx.now
                rewrite_item(ctx, item, _data(ctx, item, plan, related_table, related_id))
            return item
        if item is None:
            return place_item(ctx, _data(ctx, None, plan, related_table, related_id), owner_id=plan.owner_id,
                              source=source, source_id=plan.plan_id)
        item.owner_id = plan.owner_id
        item.done_at = None
        return rewrite_item(ctx, item, _data(ctx, item, plan, related_table, related_id))


def _data(ctx: Ctx, item: CalendarItem | None, plan: Any, related_table: str, related_id: int) -> ItemData:
    tzid = ctx.dbsession.scalar(select(User.timezone).where(User.id == plan.owner_id)) or "Asia/Shanghai"
    base = ItemData(title=plan.title[:200], kind="task", type="followup", tzid=tzid,
                    related_table=related_table, related_id=related_id)
    if item is not None:  # what the owner added on the calendar stays (notes, participants)
        base = dataclasses.replace(base, description=item.description or "", location=item.location or "",
                                   private=item.private, participants=tuple(a.user_id for a in item.attendees))
    return dataclasses.replace(base, start=wall(plan.due_at, zone(tzid)))
