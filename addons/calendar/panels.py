"""The calendar's panel on other addons' record pages (a customer's, a lead's, an
opportunity's): what is planned about the record — the open tasks still due or overdue and the
events of the coming weeks — with "new event" / "new task" prefilled with the link.

The panel is offered on any record another addon makes linkable (``kehu_record_links``
answers for it), so the calendar names no other addon's table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.contributions import RecordPanel
from core.i18n import _
from core.links import record_link

from .dashboard import overdue_tasks
from .models import CalendarItem
from .occurrences import COLOURS, occurrences
from .times import day_bounds
from .views import item_url, reader_zone, today, writable

#: The coming days the panel looks ahead, and the rows it lists.
AHEAD_DAYS = 60
SHOWN = 10


def record_panels(request: Any, record: Any) -> list[RecordPanel]:
    ctx = request.ctx
    table = getattr(record, "__tablename__", None)
    if (ctx.user is None or table is None or table.startswith("calendar_")
            or not ctx.access.can("calendar.item:read") or record_link(ctx, table, record.id) is None):
        return []
    return [RecordPanel(id="calendar.planned", title=_("Calendar"), order=30, permission="calendar.item:read",
                        template="addons.calendar:templates/calendar/panel.jinja2", context=planned)]


def planned(request: Any, record: Any) -> dict[str, Any]:
    """Open tasks due before today (any age: a customer's forgotten promise matters) and the
    occurrences from today on, as far as AHEAD_DAYS."""
    ctx = request.ctx
    tz = reader_zone(request)
    table = record.__tablename__
    about = (CalendarItem.related_table == table, CalendarItem.related_id == record.id)
    day = today(request)
    start = day_bounds(day, tz)[0]
    overdue = overdue_tasks(ctx, day, start, *about, limit=SHOWN)
    coming = occurrences(ctx, start, start + dt.timedelta(days=AHEAD_DAYS), tz, extra=about)
    rows = (overdue + coming)[:SHOWN]
    related = f"{table}:{record.id}"
    link = record_link(ctx, table, record.id)
    return {
        "back": link.url if link is not None else "",
        "rows": rows, "more": len(overdue) + len(coming) > SHOWN, "tz": tz, "colours": COLOURS,
        "overdue": {o.item.id for o in overdue}, "item_url": lambda o: item_url(request, o),
        "may_write": writable(request, [o.item for o in rows]),
        "may_create": ctx.access.can("calendar.item:create"),
        "new_event": request.route_path("calendar.new", _query={"related": related}),
        "new_task": request.route_path("calendar.new", _query={"related": related, "kind": "task"}),
    }
