"""The opportunities list, declared once: views (进行中 / 赢单 / 输单, closing this month,
overdue), filters, search, bulk actions and export come from the core's list machinery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import selectinload

from addons.customers.lists import format_cny
from core.access.scopes import scope_condition
from core.i18n import _, localizer_for
from core.lists.declaration import Column, Filter, ListPage, SystemView
from core.lists.system_views import DEFAULT_SYSTEM_VIEWS
from core.lists.views import assign_action, delete_action
from core.models import User

from . import pipelines, scoring, services
from .models import Opportunity

STATUSES = [("open", _("In progress")), ("won", _("Won")), ("lost", _("Lost"))]
_STATUS_LABELS = dict(STATUSES)


def stage_choices(ctx: Any) -> list[tuple[Any, Any]]:
    return [(s.id, f"{p.name} · {s.name}") for p in pipelines.pipelines_for(ctx) for s in p.stages]


def pipeline_choices(ctx: Any) -> list[tuple[Any, Any]]:
    return [(p.id, p.name) for p in pipelines.pipelines_for(ctx)]


def customer_name(ctx: Any, opportunity: Opportunity) -> str:
    return opportunity.customer.name


def stage_name(ctx: Any, opportunity: Opportunity) -> str:
    return opportunity.stage.name


def status_label(ctx: Any, opportunity: Opportunity) -> Any:
    return _STATUS_LABELS.get(opportunity.status, opportunity.status)


def owner_name(ctx: Any, opportunity: Opportunity) -> str | None:
    return opportunity.owner.label if opportunity.owner is not None else None


def amount(ctx: Any, opportunity: Opportunity) -> str:
    return format_cny(Decimal(opportunity.amount))


def weighted(ctx: Any, opportunity: Opportunity) -> str:
    """金额 × 概率: what the forecast counts of it."""
    return format_cny(Decimal(opportunity.amount) * opportunity.probability / 100)


def _status(value: str) -> Any:
    return lambda ctx, page: Opportunity.status == value


def closing_this_month(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    today = ctx.now.date()
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return (Opportunity.status == "open") & (Opportunity.expected_close >= first) & \
        (Opportunity.expected_close < following)


def overdue(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    return (Opportunity.status == "open") & (Opportunity.expected_close < ctx.now.date())


def assign(ctx: Any, opportunities: list[Opportunity], owner_id: Any) -> int:
    return services.assign_opportunities(ctx, [o.id for o in opportunities], int(owner_id))


def delete(ctx: Any, opportunities: list[Opportunity], _value: Any) -> int:
    for opportunity in opportunities:
        services.delete_opportunity(ctx, opportunity.id)
    return len(opportunities)


OPPORTUNITIES_LIST = ListPage(
    key="opportunities.opportunities",
    model=Opportunity,
    title=_("Opportunities"),
    path="/opportunities",
    columns=(
        Column("title", _("Opportunity"), sortable=True, link=True),
        Column("customer_id", _("Customer"), render=customer_name),
        Column("amount", _("Amount"), sortable=True, render=amount),
        Column("stage_id", _("Stage"), render=stage_name),
        Column("probability", _("Probability (%)")),
        Column("weighted", _("Weighted amount"), render=weighted),
        Column("score", _("Score"), sortable=True),
        Column("expected_close", _("Expected close")),
        Column("owner", _("Owner"), render=owner_name),
        Column("status", _("Status"), render=status_label, default=False),
        Column("competitor", _("Competitor"), default=False),
        Column("created_at", _("Created"), sortable=True, default=False),
    ),
    filters=(
        Filter("status", _("Status"), choices=STATUSES),
        Filter("pipeline_id", _("Pipeline"), choices=pipeline_choices),
        Filter("stage_id", _("Stage"), choices=stage_choices),
        Filter("amount", _("Amount")),
        Filter("score", _("Score")),
        Filter("expected_close", _("Expected close")),
        Filter("owner_id", _("Owner")),
        Filter("customer_id", _("Customer"), kind="number"),
        Filter("created_at", _("Created")),
    ),
    search=("title",),
    sort=("id", "title", "amount", "score", "created_at", "updated_at"),
    default_sort="-id",
    detail_route="opportunities.detail",
    new_route="opportunities.new",
    import_key="opportunities.opportunities",
    bulk_actions=(assign_action(assign), delete_action(delete)),
    system_views=(
        *DEFAULT_SYSTEM_VIEWS,
        SystemView("open", _("In progress"), _status("open")),
        SystemView("won", _("Won"), _status("won")),
        SystemView("lost", _("Lost"), _status("lost")),
        SystemView("closing", _("Closing this month"), closing_this_month),
        SystemView("overdue", _("Past the close date"), overdue),
    ),
    eager=lambda query: query.options(selectinload(Opportunity.owner).lazyload(User.roles),
                                      selectinload(Opportunity.customer), selectinload(Opportunity.stage)),
)


def open_in_scope(ctx: Any, page: ListPage, action: str) -> ColumnElement[bool]:
    return scope_condition(ctx, Opportunity, action) & (Opportunity.status == "open")


def score_reasons(ctx: Any, opportunity: Opportunity) -> str:
    """"why 72": each factor's share, largest first (the page shows the full breakdown)."""
    shares = sorted(opportunity.score_factors or [], key=lambda f: -f["share"])
    translate = localizer_for(ctx.locale).translate
    return "; ".join(f"{translate(scoring.label(f['factor']))} +{f['share']}" for f in shares if f["share"])


#: 商机评分排名 (S3): the open opportunities by score, best first, with what made each score;
#: exportable like any list.
RANKING_LIST = ListPage(
    key="opportunities.ranking",
    model=Opportunity,
    title=_("Opportunity ranking"),
    path="/opportunities/ranking",
    columns=(
        Column("score", _("Score"), sortable=True),
        Column("title", _("Opportunity"), link=True),
        Column("customer_id", _("Customer"), render=customer_name),
        Column("amount", _("Amount"), sortable=True, render=amount),
        Column("stage_id", _("Stage"), render=stage_name),
        Column("owner", _("Owner"), render=owner_name),
        Column("score_factors", _("Why this score"), render=score_reasons),
        Column("expected_close", _("Expected close"), default=False),
    ),
    filters=(
        Filter("pipeline_id", _("Pipeline"), choices=pipeline_choices),
        Filter("stage_id", _("Stage"), choices=stage_choices),
        Filter("score", _("Score")),
        Filter("amount", _("Amount")),
        Filter("owner_id", _("Owner")),
    ),
    search=("title",),
    sort=("score", "amount", "id"),
    default_sort="-score",
    detail_route="opportunities.detail",
    system_views=DEFAULT_SYSTEM_VIEWS,
    base_condition=open_in_scope,
    eager=OPPORTUNITIES_LIST.eager,
)
