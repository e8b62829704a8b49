"""The leads addon's cards on the workbench (``kehu_dashboard_widgets``).

For everyone who reads leads: mine due for follow-up (today or overdue, nurtured ones among
them), and leads by source and by status — in the reader's scope, so a salesperson sees their
own figures and a manager their department's. For managers (a read scope wider than their own
leads): open leads by owner, as ECharts.

Each card costs one or two indexed queries whatever the table's size: "mine" is
``owner_id = me`` on the ``(owner_id, next_followup_at)`` index, and each chart is one GROUP BY
inside the reader's scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select

from addons.customers import choices
from core.access.scopes import scope_condition
from core.contributions import DashboardWidget
from core.i18n import _
from core.models import User

from .lists import DEFAULT_ZONE, STATUS_LABELS
from .models import OPEN_STATUSES, STATUSES, Lead

TEMPLATES = "addons.leads:templates/leads/widgets/"
#: Rows a card lists; the count beside its title says how many there are in all.
SHOWN = 8
CHART_ROWS = 12


def widgets(request: Any) -> list[DashboardWidget]:
    """The cards this user gets (the hook's answer): one row of three after the customers'
    lists, the owner chart across the page below it."""
    ctx = request.ctx
    if ctx.user is None or not ctx.access.can("leads.lead:read"):
        return []
    cards = [
        DashboardWidget(id="leads.due", title=_("My leads due for follow-up"), template=TEMPLATES + "list.jinja2",
                        context=due, order=14, width=4),
        DashboardWidget(id="leads.by_source", title=_("Leads by source"), template=TEMPLATES + "chart.jinja2",
                        context=by_source, order=15, width=4, charts=True),
        DashboardWidget(id="leads.by_status", title=_("Leads by status"), template=TEMPLATES + "chart.jinja2",
                        context=by_status, order=16, width=4, charts=True),
    ]
    if is_manager(ctx):
        cards.append(DashboardWidget(id="leads.by_owner", title=_("Open leads by owner"),
                                     template=TEMPLATES + "chart.jinja2", context=by_owner, order=17, width=12,
                                     charts=True))
    return cards


def is_manager(ctx: Any) -> bool:
    """Whoever reads more than their own leads (department, below, all) sees the owner chart."""
    return bool(ctx.access.scopes_for("leads.lead", "read") - {"own"})


# ---------------------------------------------------------------- my leads due


def _tomorrow(ctx: Any) -> dt.datetime:
    """The start of tomorrow in the reader's time zone, in UTC."""
    zone = ZoneInfo(getattr(ctx.user, "timezone", None) or DEFAULT_ZONE)
    start = dt.datetime.combine(ctx.now.astimezone(zone).date() + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC)


def due(request: Any) -> dict[str, Any]:
    """My open leads whose next follow-up is today or overdue, the most overdue first."""
    ctx = request.ctx
    where = and_(Lead.owner_id == ctx.user.id, Lead.next_followup_at < _tomorrow(ctx),
                 Lead.status.in_(OPEN_STATUSES), scope_condition(ctx, Lead, "read"))
    rows = ctx.dbsession.execute(select(Lead.id, Lead.name, Lead.status, Lead.next_followup_at)
                                 .where(where).order_by(Lead.next_followup_at, Lead.id).limit(SHOWN)).all()
    total = len(rows) if len(rows) < SHOWN else ctx.dbsession.scalar(
        select(func.count()).select_from(Lead).where(where))
    return {"rows": [{"id": r.id, "name": r.name, "status": STATUS_LABELS.get(r.status, r.status),
                      "nurture": r.status == "nurture", "at": r.next_followup_at,
                      "overdue": r.next_followup_at < ctx.now} for r in rows],
            "total": total, "empty": _("No lead waits for you. Well done."),
            "more_route": "leads.leads.list", "more_query": {"view": "system:due"}}


# ---------------------------------------------------------------- charts


def _grouped(request: Any, column: Any, *where: ColumnElement[bool], limit: int = CHART_ROWS) -> list[tuple[Any, int]]:
    """Leads in the reader's scope per value of ``column``, the largest first (one GROUP BY)."""
    ctx = request.ctx
    count = func.count(Lead.id)
    return [(value, number) for value, number in ctx.dbsession.execute(
        select(column, count).where(scope_condition(ctx, Lead, "read"), *where)
        .group_by(column).order_by(count.desc(), column).limit(limit)).all()]


def by_source(request: Any) -> dict[str, Any]:
    labels = choices.labels(request.ctx, "source")  # the administrator's names of the sources (cached)
    unset = request.localizer.translate(_("Not set"))
    rows = [(labels.get(value, value) if value else unset, n) for value, n in _grouped(request, Lead.source)]
    return {"chart": _pie(rows), "total": sum(n for _v, n in rows), "rows": rows}


def by_status(request: Any) -> dict[str, Any]:
    """Every status in the lead's life order (new … converted), whatever its count."""
    found = dict(_grouped(request, Lead.status, limit=len(STATUSES) + 1))
    translate = request.localizer.translate
    rows = [(translate(STATUS_LABELS[status]), found[status]) for status in STATUSES if found.get(status)]
    rows += [(status, n) for status, n in found.items() if status not in STATUS_LABELS]
    return {"chart": _bar(rows), "total": sum(n for _v, n in rows), "rows": rows}


def by_owner(request: Any) -> dict[str, Any]:
    """Open leads per owner in the manager's scope (one GROUP BY joined to the users)."""
    ctx = request.ctx
    count = func.count(Lead.id)
    found = ctx.dbsession.execute(
        select(User.display_name, User.username, count).join(User, User.id == Lead.owner_id)
        .where(scope_condition(ctx, Lead, "read"), Lead.status.in_(OPEN_STATUSES))
        .group_by(Lead.owner_id, User.display_name, User.username)
        .order_by(count.desc(), User.username).limit(CHART_ROWS)).all()
    rows = [(display or username, n) for display, username, n in found]
    return {"chart": _bar(list(reversed(rows)), horizontal=True), "total": sum(n for _v, n in rows), "rows": rows}


def _bar(rows: list[tuple[Any, int]], horizontal: bool = False) -> dict[str, Any]:
    categories = {"type": "category", "data": [str(value) for value, _n in rows]}
    values = {"type": "value", "minInterval": 1}
    return {"grid": {"left": 8, "right": 16, "top": 16, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis"},
            "xAxis": values if horizontal else categories, "yAxis": categories if horizontal else values,
            "series": [{"type": "bar", "data": [n for _v, n in rows], "barMaxWidth": 32}]}


def _pie(rows: list[tuple[Any, int]]) -> dict[str, Any]:
    """A ring with its legend below: a third of the page (or a phone) leaves no room for labels."""
    return {"tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
            "legend": {"type": "scroll", "bottom": 0},
            "series": [{"type": "pie", "radius": ["35%", "62%"], "center": ["50%", "44%"], "label": {"show": False},
                        "data": [{"name": str(value), "value": n} for value, n in rows]}]}
