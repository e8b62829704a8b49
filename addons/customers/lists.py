"""The customers list page, declared once: views, filters, search, sort, bulk actions and
export all come from the core's list machinery."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy.orm import selectinload

from core.i18n import _
from core.lists.declaration import BulkAction, Column, Filter, ListPage, SystemView
from core.lists.system_views import ALL, DEFAULT_SYSTEM_VIEWS
from core.lists.views import assign_action, delete_action, set_field_action
from core.models import User

from . import pool, services
from .models import Customer

LEVELS = [("A", _("Level A")), ("B", _("Level B")), ("C", _("Level C")), ("D", _("Level D"))]
DEAL_STATUSES = [("open", _("Not won yet")), ("won", _("Won"))]
_DEAL_LABELS = dict(DEAL_STATUSES)


def owner_name(ctx: Any, customer: Customer) -> str | None:
    return customer.owner.label if customer.owner is not None else None


def deal_status(ctx: Any, customer: Customer) -> Any:
    return _DEAL_LABELS.get(customer.deal_status, customer.deal_status)


def key_customers(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    return Customer.key_customer.is_(True)


def followup_due(ctx: Any, page: ListPage) -> ColumnElement[bool]:
    """Next follow-up today or earlier, "today" in the reader's time zone."""
    zone = ZoneInfo(getattr(ctx.user, "timezone", None) or "Asia/Shanghai")
    today = ctx.now.astimezone(zone).date()
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return Customer.next_followup_at < tomorrow


def assign(ctx: Any, customers: list[Customer], owner_id: Any) -> int:
    return services.assign_customers(ctx, [c.id for c in customers], int(owner_id))


def set_level(ctx: Any, customers: list[Customer], level: Any) -> int:
    return services.set_level(ctx, [c.id for c in customers], level or None)


def delete(ctx: Any, customers: list[Customer], _value: Any) -> int:
    for customer in customers:
        services.delete_customer(ctx, customer.id)
    return len(customers)


CUSTOMERS_LIST = ListPage(
    key="customers.customers",
    model=Customer,
    title=_("Customers"),
    path="/customers",
    columns=(
        Column("name", _("Customer name"), sortable=True, link=True),
        Column("short_name", _("Short name")),
        Column("level", _("Level")),
        Column("key_customer", _("Key customer")),
        Column("deal_status", _("Deal status"), render=deal_status),
        Column("owner", _("Owner"), render=owner_name),
        Column("last_followup_at", _("Last follow-up")),
        Column("next_followup_at", _("Next follow-up")),
        Column("created_at", _("Created"), sortable=True, default=False),
    ),
    filters=(
        Filter("level", _("Level"), choices=LEVELS),
        Filter("key_customer", _("Key customer")),
        Filter("deal_status", _("Deal status"), choices=DEAL_STATUSES),
        Filter("source", _("Source")),
        Filter("industry", _("Industry")),
        Filter("province", _("Province")),
        Filter("owner_id", _("Owner")),
        Filter("created_at", _("Created")),
        Filter("next_followup_at", _("Next follow-up")),
    ),
    search=("name", "short_name", "pinyin", "initials", "credit_code"),
    sort=("id", "name", "created_at", "updated_at"),
    default_sort="-id",
    detail_route="customers.detail",
    new_route="customers.new",
    import_key="customers.customers",
    bulk_actions=(
        assign_action(assign),
        set_field_action("level", _("Level"), LEVELS, set_level),
        delete_action(delete),
    ),
    system_views=(
        *DEFAULT_SYSTEM_VIEWS,
        SystemView("key", _("Key customers"), key_customers),
        SystemView("due", _("Follow-up due"), followup_due),
    ),
    eager=lambda query: query.options(selectinload(Customer.owner).lazyload(User.roles)),
)


def pool_customers(ctx: Any, page: ListPage, action: str) -> ColumnElement[bool]:
    """The 公海 page's rows: customers without an owner in the pools the reader sees."""
    return pool.pool_customers_condition(ctx)


def pool_choices(ctx: Any) -> list[tuple[Any, Any]]:
    return [(p.id, p.name) for p in pool.pools_for(ctx)]


def pool_name(ctx: Any, customer: Customer) -> str | None:
    return customer.pool.name if customer.pool is not None else None


def claim(ctx: Any, customers: list[Customer], _value: Any) -> int:
    return len(pool.claim_from_pool(ctx, [c.id for c in customers]))


#: 公海: the same customers table, its base condition the reader's pools instead of the owner
#: scope; "Claim" takes the selected (or all matching) customers, all or none.
POOL_LIST = ListPage(
    key="customers.pool",
    model=Customer,
    title=_("Public pool"),
    path="/customers/pool",
    columns=(
        Column("name", _("Customer name"), sortable=True, link=True),
        Column("pool_id", _("Pool"), render=pool_name),
        Column("level", _("Level")),
        Column("industry", _("Industry")),
        Column("province", _("Province")),
        Column("last_followup_at", _("Last follow-up")),
        Column("updated_at", _("Entered the pool"), sortable=True),
    ),
    filters=(
        Filter("pool_id", _("Pool"), choices=pool_choices),
        Filter("level", _("Level"), choices=LEVELS),
        Filter("industry", _("Industry")),
        Filter("province", _("Province")),
    ),
    search=("name", "short_name", "pinyin", "initials", "credit_code"),
    sort=("id", "name", "updated_at"),
    default_sort="-updated_at",
    detail_route="customers.detail",
    bulk_actions=(BulkAction("claim", _("Claim"), claim, action="read"),),
    system_views=(ALL,),
    export=False,
    base_condition=pool_customers,
    eager=lambda query: query.options(selectinload(Customer.pool)),
)
