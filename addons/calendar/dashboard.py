"""The calendar's "today" card on the workbench (``kehu_dashboard_widgets``): my events of the
day, the tasks due today or overdue, and the follow-ups due (the tasks other addons' follow-up
plans put on my calendar, type ``followup``), each ticked off in place.

Two queries whatever the calendar's size: today's occurrences through the ``(owner_id,
span_start)`` index as the agenda reads them, and the overdue open tasks of the last
``OVERDUE_DAYS`` days (tasks never repeat, so no expansion is needed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.contributions import DashboardWidget
from core.i18n import _
from core.links import record_links

from .models import CalendarItem
from .occurrences import COLOURS, Occurrence, item_loads, occurrences, single, visible_condition
from .times import day_bounds
from .views import item_url, reader_zone, today, writable

#: How far back an open task still counts as overdue on the card (the agenda shows older ones).
OVERDUE_DAYS = 60
#: Rows per group; the count beside each group's title says how many there are in all.
SHOWN = 8


def widgets(request: Any) -> list[DashboardWidget]:
    ctx = request.ctx
    if ctx.user is None or not ctx.access.can("calendar.item:read"):
        return []
    return [DashboardWidget(id="calendar.today", title=_("Today"), order=5, width=6, context=today_card,
                            template="addons.calendar:templates/calendar/widgets/today.jinja2")]


def overdue_tasks(ctx: Any, day: dt.date, start: dt.datetime, *conditions: Any,
                  limit: int | None = None) -> list[Occurrence]:
    """Open tasks due before ``day`` (starting at ``start``, UTC) that the reader may see. An
    all-day task's span is widened to every zone, so its own date decides, not the span."""
    items = ctx.dbsession.scalars(
        select(CalendarItem).where(visible_condition(ctx), CalendarItem.kind == "task", CalendarItem.done_at.is_(None),
                                   CalendarItem.wide.is_(False), CalendarItem.span_start < start, *conditions)
        .options(*item_loads()).order_by(CalendarItem.span_start, CalendarItem.id).limit(limit))
    return [single(item) for item in items
            if (item.end_date < day if item.all_day else item.start_at < start)]  # type: ignore[operator]


def today_card(request: Any) -> dict[str, Any]:
    ctx = request.ctx
    tz = reader_zone(request)
    day = today(request)
    start, end = day_bounds(day, tz)
    me = ctx.user.id
    found = occurrences(ctx, start, end, tz, owners=[me], attending=me)
    overdue = overdue_tasks(ctx, day, start, CalendarItem.owner_id == me,
                            CalendarItem.span_start >= start - dt.timedelta(days=OVERDUE_DAYS))
    events = [o for o in found if o.item.kind == "event"]
    tasks = overdue + [o for o in found if o.item.kind == "task" and o.item.done_at is None]
    groups = [
        ("events", _("My events"), events),
        ("tasks", _("Tasks due"), [o for o in tasks if o.item.type != "followup"]),
        ("followups", _("Follow-ups due"), [o for o in tasks if o.item.type == "followup"]),
    ]
    shown = [o for _key, _title, rows in groups for o in rows[:SHOWN]]
    items = [o.item for o in shown]
    return {
        "groups": [(key, title, rows[:SHOWN], len(rows)) for key, title, rows in groups],
        "tz": tz, "colours": COLOURS, "item_url": lambda o: item_url(request, o),
        "may_write": writable(request, items), "overdue": {o.item.id for o in overdue},
        "links": record_links(ctx, [(i.related_table, i.related_id) for i in items if i.related_table]),
    }
