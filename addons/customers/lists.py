"""The customers list page, declared once: views, filters, search, sort, bulk actions and
export all come from the core's list machinery."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from core.access.recycle import live, purge_after
from core.access.scopes import scope_condition
from core.i18n import _
from core.lists.declaration import BulkAction, Column, Filter, ListPage, RowAction, SystemView
from core.lists.system_views import ALL, DEFAULT_SYSTEM_VIEWS
from core.lists.views import assign_action, delete_action, set_field_action
from core.models import User

from . import choices, pool, pool_assign, recycle, regions, services, tags
from .models import Contact, Customer
from .search import contact_list_search_condition, list_search_condition

LEVELS = choices.filter_options("level")  # the administrator's list (customers.settings:admin)
SOURCES = choices.filter_options("source")
INDUSTRIES = choices.filter_options("industry")
DEAL_STATUSES = [("open", _("Not won yet")), ("won", _("Won"))]
_DEAL_LABELS = dict(DEAL_STATUSES)


def province_choices(ctx: Any) -> list[tuple[str, str]]:
    return [(p.name, p.name) for p in regions.provinces()]


def active_levels(ctx: Any) -> list[tuple[str, str]]:
    return choices.options(ctx, "level")


def tag_list(ctx: Any, customer: Customer) -> str:
    """The customer's tags as text (cells are escaped); loaded for the whole page by ``eager``."""
    return ", ".join(tag.name for tag in customer.tags)


def add_tag(ctx: Any, customers: list[Customer], tag_id: Any) -> int:
    return tags.add_tag(ctx, [c.id for c in customers], tag_id)


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


def set_source(ctx: Any, customers: list[Customer], source: Any) -> int:
    return services.set_listed(ctx, [c.id for c in customers], "source", source)


def set_industry(ctx: Any, customers: list[Customer], industry: Any) -> int:
    return services.set_listed(ctx, [c.id for c in customers], "industry", industry)


def set_level(ctx: Any, customers: list[Customer], level: Any) -> int:
    return services.set_level(ctx, [c.id for c in customers], level or None)


def delete(ctx: Any, customers: list[Customer], _value: Any) -> int:
    return recycle.delete_customers(ctx, [c.id for c in customers])


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
        Column("locked", _("Locked")),  # 锁定: the pool's automatic return skips it
        Column("tags", _("Tags"), render=tag_list),
        Column("last_followup_at", _("Last follow-up")),
        Column("next_followup_at", _("Next follow-up")),
        Column("created_at", _("Created"), sortable=True, default=False),
    ),
    filters=(
        Filter("level", _("Level"), choices=LEVELS),
        Filter("key_customer", _("Key customer")),
        Filter("deal_status", _("Deal status"), choices=DEAL_STATUSES),
        Filter("source", _("Source"), choices=SOURCES),
        Filter("industry", _("Industry"), choices=INDUSTRIES),
        Filter("province", _("Province"), choices=province_choices),
        Filter("tags", _("Tag"), choices=tags.tag_choices, where=tags.tag_condition),
        Filter("owner_id", _("Owner")),
        Filter("created_at", _("Created")),
        Filter("next_followup_at", _("Next follow-up")),
    ),
    search=("name", "short_name", "pinyin", "initials", "credit_code"),
    search_condition=list_search_condition,
    sort=("id", "name", "created_at", "updated_at"),
    default_sort="-id",
    detail_route="customers.detail",
    new_route="customers.new",
    import_key="customers.customers",
    bulk_actions=(
        assign_action(assign),
        set_field_action("level", _("Level"), active_levels, set_level),
        set_field_action("source", _("Source"), lambda ctx: choices.options(ctx, "source"), set_source),
        set_field_action("industry", _("Industry"), lambda ctx: choices.options(ctx, "industry"), set_industry),
        BulkAction("add_tag", _("Add a tag"), add_tag, field="tag_id", field_label=_("Tag"), choices=tags.tag_choices),
        delete_action(delete),
    ),
    system_views=(
        *DEFAULT_SYSTEM_VIEWS,
        SystemView("key", _("Key customers"), key_customers),
        SystemView("due", _("Follow-up due"), followup_due),
    ),
    eager=lambda query: query.options(selectinload(Customer.owner).lazyload(User.roles),
                                      selectinload(Customer.tags)),
    # 写跟进 without leaving the list: the small follow-up form in a dialog, back to the list
    row_actions=(RowAction("followup", _("Follow up"), "customers.followup_quick",
                           permission="customers.followup:create", icon="chat-left-text"),),
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


def assign_from_pool(ctx: Any, customers: list[Customer], user_id: Any) -> int:
    return len(pool_assign.assign_from_pool(ctx, [c.id for c in customers], int(user_id)))


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
        Filter("industry", _("Industry"), choices=INDUSTRIES),
        Filter("province", _("Province"), choices=province_choices),
    ),
    search=("name", "short_name", "pinyin", "initials", "credit_code"),
    search_condition=list_search_condition,
    sort=("id", "name", "updated_at"),
    default_sort="-updated_at",
    detail_route="customers.detail",
    # 分配: a pool manager gives the selected customers to a member (pool_assign checks who may)
    bulk_actions=(BulkAction("claim", _("Claim"), claim, action="read"),
                  BulkAction("assign", _("Assign"), assign_from_pool, action="read", field="owner_id",
                             field_label=_("New owner"), choices=pool_assign.assignee_choices)),
    system_views=(ALL,),
    export=False,
    base_condition=pool_customers,
    eager=lambda query: query.options(selectinload(Customer.pool)),
)


def recycled(ctx: Any, page: ListPage, action: str) -> ColumnElement[bool]:
    """The bin's customers: listed to (and restored by) whoever may delete them."""
    return recycle.recycled_condition(ctx, "delete" if action == "read" else action)


def deleter_name(ctx: Any, customer: Customer) -> str | None:
    return customer.deleter.label if customer.deleter is not None else None


def days_left(ctx: Any, customer: Customer) -> int | None:
    """Whole days until the purge takes it (0 = today)."""
    if customer.deleted_at is None:
        return None
    return max(0, (purge_after(customer.deleted_at) - ctx.now).days)


def restore(ctx: Any, customers: list[Customer], _value: Any) -> int:
    return recycle.restore_customers(ctx, [c.id for c in customers])


def purge(ctx: Any, customers: list[Customer], _value: Any) -> int:
    return recycle.purge_customers(ctx, [c.id for c in customers])


#: 回收站: deleted customers for 30 days; restore brings back what the delete took.
RECYCLE_LIST = ListPage(
    key="customers.recycle",
    model=Customer,
    title=_("Recycle bin"),
    path="/customers/recycle-bin",
    columns=(
        Column("name", _("Customer name"), sortable=True),
        Column("owner", _("Owner"), render=owner_name),
        Column("deleted_at", _("Deleted")),
        Column("deleted_by", _("Deleted by"), render=deleter_name),
        Column("days_left", _("Days before purge"), render=days_left),
    ),
    search=("name", "short_name", "pinyin", "initials", "credit_code"),
    search_condition=list_search_condition,
    sort=("id", "name", "updated_at"),
    default_sort="-updated_at",  # the delete is the last change: newest deletions first
    bulk_actions=(BulkAction("restore", _("Restore"), restore, action="delete"),
                  BulkAction("purge", _("Delete for good"), purge, action="purge", danger=True)),
    system_views=(ALL,),
    export=False,
    base_condition=recycled,
    eager=lambda query: query.options(selectinload(Customer.owner).lazyload(User.roles),
                                      selectinload(Customer.deleter).lazyload(User.roles)),
)


def key_condition(ctx: Any, page: ListPage, action: str) -> ColumnElement[bool]:
    """重点客户: key customers within the reader's scope for ``action`` (an indexed flag)."""
    from core.access.scopes import scope_condition

    return scope_condition(ctx, Customer, action) & Customer.key_customer.is_(True)


def days_since_followup(ctx: Any, customer: Customer) -> int | None:
    """Whole days since the last follow-up (empty when there was none)."""
    if customer.last_followup_at is None:
        return None
    return max(0, (ctx.now - customer.last_followup_at).days)


class _Values:
    """The "Value" cells of one request: at the first cell, one ``customers_value`` call for
    every customer the request has loaded — the page's rows, as the core's custom-field cells
    do — summed over the addons that answer. A customer no addon values has an empty cell."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.asked: set[int] = set()
        self.values: dict[int, Decimal] = {}

    def cell(self, ctx: Any, customer: Customer) -> str | None:
        if customer.id not in self.asked:
            self.asked = {obj.id for obj in self.ctx.dbsession.identity_map.values()
                          if isinstance(obj, Customer) and obj.id is not None} | {customer.id}
            self.values = {}
            for answer in self.ctx.hooks.customers_value(ctx=self.ctx, customer_ids=sorted(self.asked)):
                for customer_id, amount in (answer or {}).items():
                    if int(customer_id) in self.asked and amount is not None:
                        key = int(customer_id)
                        self.values[key] = self.values.get(key, Decimal(0)) + Decimal(str(amount))
        amount = self.values.get(customer.id)
        return format_cny(amount) if amount is not None else None


def format_cny(amount: Decimal) -> str:
    """¥1,234.50: yuan with thousands separators and fen, as Chinese invoices write it."""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def with_value_column(ctx: Any, page: ListPage) -> ListPage:
    """The key-customer list as this request sees it: a "Value" column only while an installed
    addon implements ``customers_value`` (the customers addon knows no amounts itself)."""
    if not ctx.hooks.customers_value.get_hookimpls():
        return page
    value = Column("value", _("Customer value"), render=_Values(ctx).cell)  # 价值: not Choice.value (值)
    columns = list(page.columns)
    at = next(i for i, column in enumerate(columns) if column.field == "days_since_followup") + 1
    return dataclasses.replace(page, columns=(*columns[:at], value, *columns[at:]))


#: 重点客户: the key customers one may see, with their last and next follow-up, how long since
#: anyone followed them up and — when an addon that knows amounts (opportunities, orders) is
#: installed — their value (``customers_value``).
KEY_CUSTOMERS_LIST = ListPage(
    key="customers.key",
    model=Customer,
    title=_("Key customers"),
    path="/customers/key",
    columns=(
        Column("name", _("Customer name"), sortable=True, link=True),
        Column("level", _("Level")),
        Column("owner", _("Owner"), render=owner_name),
        Column("last_followup_at", _("Last follow-up")),
        Column("next_followup_at", _("Next follow-up")),
        Column("days_since_followup", _("Days since last follow-up"), render=days_since_followup),
        Column("deal_status", _("Deal status"), render=deal_status),
        Column("province", _("Province"), default=False),
    ),
    filters=(
        Filter("level", _("Level"), choices=LEVELS),
        Filter("deal_status", _("Deal status"), choices=DEAL_STATUSES),
        Filter("owner_id", _("Owner")),
        Filter("next_followup_at", _("Next follow-up")),
        Filter("last_followup_at", _("Last follow-up")),
    ),
    search=("name", "short_name", "pinyin", "initials"),
    search_condition=list_search_condition,
    sort=("id", "name", "updated_at"),
    default_sort="name",
    detail_route="customers.detail",
    bulk_actions=(set_field_action("level", _("Level"), active_levels, set_level),),
    system_views=(ALL, SystemView("due", _("Follow-up due"), followup_due)),
    base_condition=key_condition,
    eager=lambda query: query.options(selectinload(Customer.owner).lazyload(User.roles)),
    adapt=with_value_column,
)


def contacts_of_visible_customers(ctx: Any, page: ListPage, action: str) -> ColumnElement[bool]:
    """D-SCOPE: the contacts of the customers the reader sees (team members' included), not of
    those in the recycle bin; exporting needs the contacts' export permission on top."""
    visible = select(Customer.id).where(scope_condition(ctx, Customer, "read"))
    return Contact.customer_id.in_(visible) & live(Contact)


def contact_customer(ctx: Any, contact: Contact) -> str:
    return contact.customer.name


#: 联系人: every contact of the reader's customers, searchable and exportable.
CONTACTS_LIST = ListPage(
    key="customers.contacts",
    model=Contact,
    title=_("Contacts"),
    path="/customers/contacts",
    columns=(
        Column("name", _("Name"), sortable=True, link=True),
        Column("customer_id", _("Customer"), render=contact_customer, link=True),
        Column("title", _("Job title")),
        Column("mobile", _("Mobile")),
        Column("phone", _("Phone"), default=False),
        Column("email", _("Email")),
        Column("wechat", _("WeChat"), default=False),
        Column("birthday", _("Birthday"), default=False),
        Column("primary", _("Primary contact")),
    ),
    filters=(Filter("name", _("Name")), Filter("customer_id", _("Customer"), kind="number")),
    search=("name", "mobile"),
    search_condition=contact_list_search_condition,  # name from its start, mobile whole: indexed
    sort=("id", "name"),
    default_sort="-id",
    # no page of its own: a row (its name, its customer) opens the customer's page (contact_views)
    detail_route="customers.contact",
    import_key="customers.contacts",
    system_views=(ALL,),
    base_condition=contacts_of_visible_customers,
    eager=lambda query: query.options(selectinload(Contact.customer)),
)
