"""What the customers addon adds to the core: menu, permissions, search, notification kind,
demo data."""

from __future__ import annotations

from typing import Any

from core.contributions import MenuItem, NotificationKind, PeriodicJob, Permission, SearchProvider
from core.i18n import _
from core.plugins import hookimpl
from core.search import model_search_provider

EVERYONE = ("admin", "sales_manager", "sales", "service", "marketing", "auditor")
SELLERS = ("admin", "sales_manager", "sales")
MANAGERS = ("admin", "sales_manager")


@hookimpl
def kehu_menus() -> list[MenuItem]:
    return [
        MenuItem(id="customers.list", title=_("Customers"), route="customers.customers.list", icon="building",
                 order=20, permission="customers.customer:read"),
        MenuItem(id="customers.key", title=_("Key customers"), route="customers.key.list", icon="star",
                 order=21, permission="customers.customer:read"),
        MenuItem(id="customers.contacts", title=_("Contacts"), route="customers.contacts.list",
                 icon="person-lines-fill", order=21, permission="customers.contact:read"),
        MenuItem(id="customers.duplicates", title=_("Duplicate check"), route="customers.duplicates", icon="search",
                 order=21, permission="customers.customer:read"),
        MenuItem(id="customers.pool", title=_("Public pool"), route="customers.pool.list", icon="inbox",
                 order=22, permission="customers.pool:claim"),
        MenuItem(id="customers.pools", title=_("Public pools"), route="customers.pools", icon="sliders",
                 order=23, permission="customers.pool:admin"),
        MenuItem(id="customers.choices", title=_("Customer lists"), route="customers.choices", icon="list-ul",
                 order=24, permission="customers.settings:admin"),
        MenuItem(id="customers.recycle", title=_("Recycle bin"), route="customers.recycle.list", icon="trash",
                 order=29, permission="customers.customer:delete"),
    ]


@hookimpl
def kehu_permissions() -> list[Permission]:
    """Each role's record scope (own … all) applies on top: a salesperson reads and edits their
    own customers; imports need create (and write to update)."""
    return [
        Permission("customers.customer:read", _("Read customers"), default_roles=EVERYONE),
        Permission("customers.customer:create", _("Create and import customers"), default_roles=SELLERS),
        Permission("customers.customer:write", _("Edit and assign customers"), default_roles=SELLERS),
        Permission("customers.customer:delete", _("Delete customers"), default_roles=MANAGERS),
        Permission("customers.customer:export", _("Export customers"), default_roles=MANAGERS),
        Permission("customers.customer:purge", _("Empty the customers' recycle bin"), default_roles=("admin",)),
        Permission("customers.contact:read", _("Read contacts"), default_roles=EVERYONE),
        Permission("customers.contact:create", _("Add contacts"), default_roles=SELLERS),
        Permission("customers.contact:write", _("Edit contacts"), default_roles=SELLERS),
        Permission("customers.contact:delete", _("Delete contacts"), default_roles=MANAGERS),
        Permission("customers.contact:export", _("Export contacts"), default_roles=MANAGERS),
        Permission("customers.contact:see_sensitive", _("See contacts' phone numbers, e-mail and WeChat"),
                   default_roles=MANAGERS),
        Permission("customers.followup:read", _("Read follow-ups"), default_roles=EVERYONE),
        Permission("customers.followup:create", _("Add follow-ups"), default_roles=("admin", "sales_manager",
                                                                                    "sales", "service")),
        Permission("customers.followup:write", _("Edit follow-ups"), default_roles=MANAGERS),
        Permission("customers.followup:delete", _("Delete follow-ups"), default_roles=MANAGERS),
        Permission("customers.plan:read", _("Read follow-up plans"), default_roles=EVERYONE),
        Permission("customers.plan:write", _("Move, complete and cancel follow-up plans"),
                   default_roles=("admin", "sales_manager", "sales", "service")),
        Permission("customers.pool:claim", _("Claim customers from the public pool"), default_roles=SELLERS),
        Permission("customers.pool:admin", _("Configure the public pools and their rules"), default_roles=("admin",)),
        Permission("customers.settings:admin", _("Edit the lists of sources, levels and industries"),
                   default_roles=("admin",)),
        Permission("customers.customer:merge", _("Merge two customers into one"), default_roles=("admin",)),
    ]


@hookimpl
def kehu_notification_kinds() -> list[NotificationKind]:
    return [NotificationKind(key="customers.assigned", title=_("A customer is assigned to me"),
                             default_channels=("app",)),
            NotificationKind(key="customers.team_added", title=_("I am added to a customer's team"),
                             default_channels=("app",)),
            NotificationKind(key="customers.pool_warning", title=_("A customer of mine goes back to the pool"),
                             default_channels=("app",)),
            NotificationKind(key="customers.handover_requested", title=_("Someone asks me to hand over a customer"),
                             default_channels=("app",)),
            NotificationKind(key="customers.followup_due", title=_("A follow-up I planned is due"),
                             default_channels=("app", "email"))]


@hookimpl
def kehu_periodic_jobs() -> list[PeriodicJob]:
    """公海 automatic return and its warnings, hourly (a missed hour is caught up by the next);
    the recycle bin's purge of what is past 30 days, nightly; follow-up plan reminders every five
    minutes (each plan reminded once)."""
    from .plans import remind_job
    from .pool import auto_return_due
    from .recycle import purge_expired

    return [PeriodicJob(name="customers.pool.auto_return", cron="7 * * * *", func=auto_return_due),
            PeriodicJob(name="customers.recycle.purge", cron="40 3 * * *", func=purge_expired),
            PeriodicJob(name="customers.plans.remind", cron="*/5 * * * *", func=remind_job)]


@hookimpl
def kehu_search_providers() -> list[SearchProvider]:
    from .models import Contact, Customer
    from .search import contact_search_condition, customer_search_condition

    return [
        model_search_provider("customers.customers", _("Customers"), Customer,
                              fields=("name", "short_name", "pinyin", "initials"), exact_fields=("credit_code",),
                              hit_title="name", detail=("short_name",), url="customers.detail",
                              more_url="customers.customers.list", order=20, condition=customer_search_condition),
        model_search_provider("customers.contacts", _("Contacts"), Contact, fields=("name",),
                              exact_fields=("mobile",), hit_title="name", detail=("title", "mobile"),
                              url=_contact_url, order=25, condition=contact_search_condition),
    ]


def _contact_url(request: Any, contact: Any) -> str:
    return str(request.route_path("customers.detail", id=contact.customer_id))


@hookimpl(trylast=True)
def kehu_demo_data(ctx: Any) -> None:
    """~200 customers for the demo users (run after the core has created them)."""
    from .demo import add_demo_customers

    add_demo_customers(ctx)


@hookimpl
def kehu_dashboard_widgets(request: Any) -> list[Any]:
    """Follow-ups due and overdue, recent claims, customers going back to the pool; charts for managers."""
    from .dashboard import widgets

    return widgets(request)


@hookimpl
def kehu_record_panels(request: Any, record: Any) -> list[Any]:
    """The customer page's team and attachments panels (core.history adds the history)."""
    from .panels import record_panels

    return record_panels(request, record)


@hookimpl
def kehu_record_links(ctx: Any, table: str, ids: list[int]) -> dict[int, Any]:
    """customers as other addons link them (a calendar item about one), in the reader's scope."""
    if table != "customers_customer":
        return {}
    from core.links import scoped_links

    from .models import Customer

    return scoped_links(ctx, Customer, ids, "name", "/customers/{id}", _("Customer"))


@hookimpl
def calendar_item_changed(ctx: Any, change: Any) -> None:
    """A follow-up plan's task moved, done or deleted on the calendar moves, completes or
    cancels the plan (K2)."""
    from .plans import apply_calendar_change

    apply_calendar_change(ctx, change)
