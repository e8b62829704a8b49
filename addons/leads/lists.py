"""The leads list and the lead pool list, declared once: views (已转化 among them), filters (a
tag among them), search, bulk claim / assign / return / rules / add a tag, export — the core's
list machinery does the rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import selectinload

from addons.customers import choices
from addons.customers.lists import format_cny, province_choices
from addons.customers.names import valid_mobile
from core.i18n import _
from core.lists.declaration import BulkAction, Column, Filter, ListPage, RowAction, SystemView
from core.lists.system_views import ALL, DEFAULT_SYSTEM_VIEWS
from core.lists.views import assign_action, delete_action, set_field_action
from core.models import User

from . import assignment, pool, services, tags, transfer
from .models import OPEN_STATUSES, Lead

STATUS_LABELS = {"new": _("New"), "contacting": _("Contacting"), "nurture": _("Nurturing"),
                 "qualified": _("Qualified"), "disqualified": _("Disqualified"), "converted": _("Converted")}
STATUSES = list(STATUS_LABELS.items())
#: What a person may set by hand (converting is its own step).
SETTABLE_STATUSES = [(key, label) for key, label in STATUSES if key != "converted"]
SOURCES = choices.filter_options("source")
INDUSTRIES = choices.filter_options("industry")
LEVELS = choices.filter_options("level")
DEFAULT_ZONE = "Asia/Shanghai"


def status_label(ctx: Any, lead: Lead) -> Any:
    return STATUS_LABELS.get(lead.status, lead.status)


def owner_name(ctx: Any, lead: Lead) -> str | None:
    return lead.owner.label if lead.owner is not None else None


def pool_name(ctx: Any, lead: Lead) -> str | None:
    return lead.pool.name if lead.pool is not None else None


def budget(ctx: Any, lead: Lead) -> str | None:
    return format_cny(Decimal(lead.budget)) if lead.budget is not None else None


def tag_list(ctx: Any, lead: Lead) -> str:
    """The lead's tags as text (cells are escaped); loaded for the whole page by ``eager``."""
    return ", ".join(tag.name for tag in lead.tags)


def search(ctx: Any, page: ListPage, q: str) -> ColumnElement[bool]:
    """Company or contact name containing the words; a mobile number only whole (it is masked
    for most readers, so no guessing it digit by digit)."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    condition = or_(Lead.name.ilike(pattern, escape="\\"), Lead.contact_name.ilike(pattern, escape="\\"))
    number = valid_mobile(q)
    return or_(condition, Lead.mobile == number) if number else condition


def open_leads(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    return Lead.status.in_(OPEN_STATUSES)


def converted(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    return Lead.status == "converted"


def nurturing(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    return Lead.status == "nurture"


def followup_due(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    """Next follow-up today or earlier ("today" in the reader's time zone), still open."""
    zone = ZoneInfo(getattr(ctx.user, "timezone", None) or DEFAULT_ZONE)
    tomorrow = dt.datetime.combine(ctx.now.astimezone(zone).date() + dt.timedelta(days=1), dt.time(),
                                   tzinfo=zone).astimezone(dt.UTC)
    return (Lead.next_followup_at < tomorrow) & Lead.status.in_(OPEN_STATUSES)


def assign(ctx: Any, leads: list[Lead], owner_id: Any) -> int:
    return transfer.assign_leads(ctx, [lead.id for lead in leads], int(owner_id))


def set_status(ctx: Any, leads: list[Lead], status: Any) -> int:
    count = 0
    for lead in leads:
        if lead.status != status:
            services.update_lead(ctx, lead.id, status=status)
            count += 1
    return count


def delete(ctx: Any, leads: list[Lead], _value: Any) -> int:
    for lead in leads:
        services.delete_lead(ctx, lead.id)
    return len(leads)


def return_to_pool(ctx: Any, leads: list[Lead], reason: Any) -> int:
    """退回 with one reason, each lead to the pool it came from (or the first the user sees)."""
    fallback = next((p.id for p in pool.pools_for(ctx)), None)
    for lead in leads:
        pool.return_lead(ctx, lead.id, lead.pool_id or fallback, reason)
    return len(leads)


def apply_rules(ctx: Any, leads: list[Lead], _value: Any) -> int:
    return assignment.apply_rules(ctx, [lead.id for lead in leads])


def claim(ctx: Any, leads: list[Lead], _value: Any) -> int:
    return len(pool.claim_leads(ctx, [lead.id for lead in leads]))


def add_tag(ctx: Any, leads: list[Lead], tag_id: Any) -> int:
    return tags.add_tag(ctx, [lead.id for lead in leads], tag_id)


def _eager(query: Any) -> Any:
    return query.options(selectinload(Lead.owner).lazyload(User.roles), selectinload(Lead.pool))


def _eager_with_tags(query: Any) -> Any:
    """The leads list's rows with their owner, pool and tags: one query each for the page."""
    return _eager(query).options(selectinload(Lead.tags))


SHARED_FILTERS = (
    Filter("source", _("Lead source"), choices=SOURCES),
    Filter("industry", _("Industry"), choices=INDUSTRIES),
    Filter("level", _("Level"), choices=LEVELS),
    Filter("province", _("Province"), choices=province_choices),
    Filter("budget", _("Expected budget")),
)

LEADS_LIST = ListPage(
    key="leads.leads",
    model=Lead,
    title=_("Leads"),
    path="/leads",
    columns=(
        Column("name", _("Lead name"), sortable=True, link=True),
        Column("contact_name", _("Contact")),
        Column("mobile", _("Mobile")),  # sensitive: masked per reader
        Column("status", _("Status"), render=status_label),
        Column("source", _("Lead source"), default=False),
        Column("budget", _("Expected budget"), render=budget),
        Column("owner", _("Owner"), render=owner_name),
        Column("last_followup_at", _("Last follow-up"), default=False),
        Column("next_followup_at", _("Next follow-up")),
        Column("tags", _("Tags"), render=tag_list),
        Column("industry", _("Industry"), default=False),
        Column("province", _("Province"), default=False),
        Column("created_at", _("Created"), sortable=True, default=False),
    ),
    filters=(
        Filter("status", _("Status"), choices=STATUSES),
        *SHARED_FILTERS,
        Filter("owner_id", _("Owner")),
        Filter("created_at", _("Created")),
        Filter("next_followup_at", _("Next follow-up")),
        Filter("tags", _("Tag"), choices=tags.tag_choices, where=tags.tag_condition),
    ),
    search=("name", "contact_name", "mobile"),
    search_condition=search,
    sort=("id", "name", "created_at", "updated_at"),
    default_sort="-id",
    detail_route="leads.detail",
    new_route="leads.new",
    import_key="leads.leads",
    bulk_actions=(
        assign_action(assign),
        set_field_action("status", _("Status"), SETTABLE_STATUSES, set_status),
        BulkAction("add_tag", _("Add a tag"), add_tag, field="tag_id", field_label=_("Tag"), choices=tags.tag_choices),
        BulkAction("return", _("Return to the lead pool"), return_to_pool, field="reason", field_label=_("Reason"),
                   text=True),
        delete_action(delete),
    ),
    system_views=(
        *DEFAULT_SYSTEM_VIEWS,
        SystemView("open", _("Being worked"), open_leads),
        SystemView("due", _("Follow-up due"), followup_due),
        SystemView("nurture", _("Nurturing"), nurturing),
        SystemView("converted", _("Converted leads"), converted),
    ),
    eager=_eager_with_tags,
    row_actions=(RowAction("followup", _("Follow up"), "leads.followup_quick", permission="leads.followup:create",
                           icon="chat-left-text"),),
)


def pool_leads(ctx: Any, page: ListPage, action: str) -> ColumnElement[bool]:
    """The pool page's rows: leads without an owner in the pools the reader sees."""
    return pool.pool_leads_condition(ctx)


def pool_choices(ctx: Any) -> list[tuple[Any, Any]]:
    return [(p.id, p.name) for p in pool.pools_for(ctx)]


#: 线索池: leads nobody owns, in the reader's pools; claim all or none within the pool's limits;
#: a pool administrator hands them out by hand or by the assignment rules.
POOL_LIST = ListPage(
    key="leads.pool",
    model=Lead,
    title=_("Lead pool"),
    path="/leads/pool",
    columns=(
        Column("name", _("Lead name"), sortable=True, link=True),
        Column("pool_id", _("Lead pool"), render=pool_name),
        Column("source", _("Lead source")),
        Column("industry", _("Industry")),
        Column("province", _("Province")),
        Column("budget", _("Expected budget"), render=budget),
        Column("last_followup_at", _("Last follow-up")),
        Column("updated_at", _("Last changed"), sortable=True),
    ),
    filters=(Filter("pool_id", _("Lead pool"), choices=pool_choices), *SHARED_FILTERS),
    search=("name", "contact_name", "mobile"),
    search_condition=search,
    sort=("id", "name", "updated_at"),
    default_sort="-updated_at",
    detail_route="leads.detail",
    bulk_actions=(
        BulkAction("claim", _("Claim"), claim, action="read"),
        BulkAction("assign", _("Assign"), assign, action="read", field="owner_id", field_label=_("New owner"),
                   choices=assign_action(assign).choices),
        BulkAction("apply_rules", _("Apply the assignment rules"), apply_rules, action="read"),
    ),
    system_views=(ALL,),
    export=False,
    base_condition=pool_leads,
    eager=_eager,
)
