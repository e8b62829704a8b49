"""The customers addon's cards on the workbench (``kehu_dashboard_widgets``).

For everyone who follows customers up: mine due today, mine overdue, what I claimed from the
pool in the last 7 days, and mine that go back to the pool within 7 days. For managers (a read
scope wider than their own customers): customers by level, source and province, as ECharts.

Each card costs one or two indexed queries whatever the table's size: "mine" is
``owner_id = me`` on the ``(owner_id, next_followup_at)`` index, claims are read from the pool
moves' ``(user_id, action, at)`` index, and each chart is one GROUP BY inside the reader's scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select

from core.access.scopes import scope_condition
from core.contributions import DashboardWidget
from core.i18n import _

from . import choices
from . import pool as pools
from .models import Customer, Pool, PoolMove

TEMPLATES = "addons.customers:templates/customers/widgets/"
#: Rows a card lists; the count beside its title says how many there are in all.
SHOWN = 8
RECENT = dt.timedelta(days=7)
SOON = dt.timedelta(days=7)
CHART_ROWS = 12


def widgets(request: Any) -> list[DashboardWidget]:
    """The cards this user gets (the hook's answer)."""
    ctx = request.ctx
    if ctx.user is None or not ctx.access.can("customers.customer:read"):
        return []
    cards = [
        DashboardWidget(id="customers.due_today", title=_("Follow-ups due today"), template=TEMPLATES + "list.jinja2",
                        context=due_today, order=10, width=6),
        DashboardWidget(id="customers.overdue", title=_("Overdue follow-ups"), template=TEMPLATES + "list.jinja2",
                        context=overdue, order=11, width=6),
    ]
    if ctx.access.can("customers.pool:claim"):
        cards += [
            DashboardWidget(id="customers.claimed", title=_("Claimed from the pool in the last 7 days"),
                            template=TEMPLATES + "list.jinja2", context=recently_claimed, order=12, width=6),
            DashboardWidget(id="customers.returning", title=_("Back to the pool within 7 days"),
                            template=TEMPLATES + "list.jinja2", context=returning_soon, order=13, width=6),
        ]
    if is_manager(ctx):
        cards += [
            DashboardWidget(id="customers.by_level", title=_("Customers by level"), template=TEMPLATES + "chart.jinja2",
                            context=by_level, order=20, width=4, charts=True),
            DashboardWidget(id="customers.by_source", title=_("Customers by source"),
                            template=TEMPLATES + "chart.jinja2", context=by_source, order=21, width=4, charts=True),
            DashboardWidget(id="customers.by_province", title=_("Customers by province"),
                            template=TEMPLATES + "chart.jinja2", context=by_province, order=22, width=4, charts=True),
        ]
    return cards


def is_manager(ctx: Any) -> bool:
    """Whoever reads more than their own customers (department, below, all) sees the charts."""
    return bool(ctx.access.scopes_for("customers.customer", "read") - {"own"})


# ---------------------------------------------------------------- lists of my customers


def _mine(ctx: Any) -> ColumnElement[bool]:
    """My customers — still inside my scope (the recycle bin excluded)."""
    return and_(Customer.owner_id == ctx.user.id, scope_condition(ctx, Customer, "read"))


def _today(ctx: Any) -> tuple[dt.datetime, dt.datetime]:
    """Today in the reader's time zone, as a UTC interval."""
    zone = ZoneInfo(getattr(ctx.user, "timezone", None) or pools.DEFAULT_ZONE)
    start = dt.datetime.combine(ctx.now.astimezone(zone).date(), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def _listing(ctx: Any, where: ColumnElement[bool], order: Any, *, when: str) -> dict[str, Any]:
    rows = ctx.dbsession.execute(select(Customer.id, Customer.name, Customer.level, Customer.next_followup_at)
                                 .where(where).order_by(order, Customer.id).limit(SHOWN)).all()
    total = len(rows) if len(rows) < SHOWN else ctx.dbsession.scalar(
        select(func.count()).select_from(Customer).where(where))
    return {"rows": [{"id": r.id, "name": r.name, "level": r.level, "at": r.next_followup_at} for r in rows],
            "total": total, "when": when, "empty": _("Nothing here. Well done."),
            "more_route": "customers.customers.list", "more_query": {"view": "system:due"}}


def due_today(request: Any) -> dict[str, Any]:
    ctx = request.ctx
    start, end = _today(ctx)
    where = and_(_mine(ctx), Customer.next_followup_at >= start, Customer.next_followup_at < end)
    return _listing(ctx, where, Customer.next_followup_at, when="time")


def overdue(request: Any) -> dict[str, Any]:
    ctx = request.ctx
    start, _end = _today(ctx)
    where = and_(_mine(ctx), Customer.next_followup_at < start)
    return _listing(ctx, where, Customer.next_followup_at, when="datetime")


def recently_claimed(request: Any) -> dict[str, Any]:
    """What I claimed from a pool in the last 7 days and still own, newest first."""
    ctx = request.ctx
    where = and_(PoolMove.user_id == ctx.user.id, PoolMove.action == "claimed", PoolMove.at >= ctx.now - RECENT,
                 _mine(ctx))
    query = (select(Customer.id, Customer.name, Customer.level, PoolMove.at)
             .join(Customer, Customer.id == PoolMove.customer_id).where(where))
    rows = ctx.dbsession.execute(query.order_by(PoolMove.at.desc(), PoolMove.id.desc()).limit(SHOWN)).all()
    total = len(rows) if len(rows) < SHOWN else ctx.dbsession.scalar(
        select(func.count()).select_from(PoolMove).join(Customer, Customer.id == PoolMove.customer_id).where(where))
    return {"rows": [{"id": r.id, "name": r.name, "level": r.level, "at": r.at} for r in rows], "total": total,
            "when": "datetime", "empty": _("No claims in the last 7 days."),
            "more_route": "customers.pool.list", "more_query": {}}


def returning_soon(request: Any) -> dict[str, Any]:
    """Mine that the pool rules send back within 7 days (``pool.due_at``), the soonest first.

    One query for the pools with rules, one for the candidates: per pool, its rules' clocks
    turned into plain datetime bounds (a customer is due by ``limit`` exactly when its clock
    started before ``limit - N days``), OR-ed, so the database does the work on indexed columns.
    """
    ctx = request.ctx
    rules = or_(Pool.return_after_days_without_followup.is_not(None), Pool.return_after_days_without_deal.is_not(None))
    pool_list = ctx.dbsession.scalars(select(Pool).where(Pool.active.is_(True), rules)).all()
    empty = {"rows": [], "total": 0, "when": "datetime", "empty": _("None of your customers goes back soon."),
             "more_route": None, "more_query": {}}
    if not pool_list:
        return empty
    limit = ctx.now + SOON
    start = func.coalesce(Customer.acquired_at, Customer.created_at)
    per_pool = []
    for pool in pool_list:
        due: list[ColumnElement[bool]] = []
        if pool.return_after_days_without_followup is not None:
            bound = limit - dt.timedelta(days=pool.return_after_days_without_followup)
            due.append(and_(start <= bound, or_(Customer.last_followup_at.is_(None),
                                                Customer.last_followup_at <= bound)))
        if pool.return_after_days_without_deal is not None:
            bound = limit - dt.timedelta(days=pool.return_after_days_without_deal)
            due.append(and_(Customer.deal_status != "won", start <= bound))
        per_pool.append(and_(Customer.pool_id == pool.id, or_(*due)))
    candidates = ctx.dbsession.scalars(select(Customer).where(_mine(ctx), or_(*per_pool))
                                       .order_by(Customer.id).limit(200)).all()
    by_id = {pool.id: pool for pool in pool_list}
    dated = []
    for customer in candidates:
        due_at = pools.due_at(by_id[customer.pool_id], customer)
        if due_at is not None and due_at[0] <= limit:
            dated.append((due_at[0], customer))
    dated.sort(key=lambda pair: (pair[0], pair[1].id))
    rows = [{"id": c.id, "name": c.name, "level": c.level, "at": when} for when, c in dated[:SHOWN]]
    return {**empty, "rows": rows, "total": len(dated)}


# ---------------------------------------------------------------- charts for managers


def _grouped(request: Any, column: Any) -> list[tuple[str, int]]:
    """Customers in the reader's scope per value of ``column``, the largest first (one GROUP BY)."""
    ctx = request.ctx
    count = func.count(Customer.id)
    rows = ctx.dbsession.execute(select(column, count).where(scope_condition(ctx, Customer, "read"))
                                 .group_by(column).order_by(count.desc(), column).limit(CHART_ROWS)).all()
    unset = request.localizer.translate(_("Not set"))
    return [(value if value not in (None, "") else unset, number) for value, number in rows]


def by_level(request: Any) -> dict[str, Any]:
    labels = choices.labels(request.ctx, "level")  # the administrator's names of the levels (one query)
    rows = sorted(_grouped(request, Customer.level), key=lambda row: row[0])
    rows = [(labels.get(value, value), number) for value, number in rows]
    return {"chart": _bar(rows), "total": sum(n for _v, n in rows), "rows": rows}


def by_source(request: Any) -> dict[str, Any]:
    rows = _grouped(request, Customer.source)
    return {"chart": _pie(rows), "total": sum(n for _v, n in rows), "rows": rows}


def by_province(request: Any) -> dict[str, Any]:
    rows = _grouped(request, Customer.province)
    return {"chart": _bar(list(reversed(rows)), horizontal=True), "total": sum(n for _v, n in rows), "rows": rows}


def _bar(rows: list[tuple[str, int]], horizontal: bool = False) -> dict[str, Any]:
    categories = {"type": "category", "data": [str(value) for value, _n in rows]}
    values = {"type": "value", "minInterval": 1}
    return {"grid": {"left": 8, "right": 16, "top": 16, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis"},
            "xAxis": values if horizontal else categories, "yAxis": categories if horizontal else values,
            "series": [{"type": "bar", "data": [n for _v, n in rows], "barMaxWidth": 32}]}


def _pie(rows: list[tuple[str, int]]) -> dict[str, Any]:
    return {"tooltip": {"trigger": "item"},
            "series": [{"type": "pie", "radius": ["35%", "65%"], "avoidLabelOverlap": True,
                        "data": [{"name": str(value), "value": n} for value, n in rows]}]}
