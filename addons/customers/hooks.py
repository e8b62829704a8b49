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
        MenuItem(id="customers.duplicates", title=_("Duplicate check"), route="customers.duplicates", icon="search",
                 order=21, permission="customers.customer:read"),
        MenuItem(id="customers.pool", title=_("Public pool"), route="customers.pool.list", icon="inbox",
                 order=22, permission="customers.pool:claim"),
        MenuItem(id="customers.pools", title=_("Public pools"), route="customers.pools", icon="sliders",
                 order=23, permission="customers.pool:admin"),
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
        Permission("customers.pool:claim", _("Claim customers from the public pool"), default_roles=SELLERS),
        Permission("customers.pool:admin", _("Configure the public pools and their rules"), default_roles=("admin",)),
    ]


@hookimpl
def kehu_notification_kinds() -> list[NotificationKind]:
    return [NotificationKind(key="customers.assigned", title=_("A customer is assigned to me"),
                             default_channels=("app",)),
            NotificationKind(key="customers.pool_warning", title=_("A customer of mine goes back to the pool"),
                             default_channels=("app",))]


@hookimpl
def kehu_periodic_jobs() -> list[PeriodicJob]:
    """公海 automatic return and its warnings, hourly (a missed hour is caught up by the next)."""
    from .pool import auto_return_due

    return [PeriodicJob(name="customers.pool.auto_return", cron="7 * * * *", func=auto_return_due)]


@hookimpl
def kehu_search_providers() -> list[SearchProvider]:
    from .models import Contact, Customer

    return [
        model_search_provider("customers.customers", _("Customers"), Customer,
                              fields=("name", "short_name", "pinyin", "initials"), exact_fields=("credit_code",),
                              hit_title="name", detail=("short_name",), url="customers.detail",
                              more_url="customers.customers.list", order=20),
        model_search_provider("customers.contacts", _("Contacts"), Contact, fields=("name",),
                              exact_fields=("mobile",), hit_title="name", detail=("title", "mobile"),
                              url=_contact_url, order=25),
    ]


def _contact_url(request: Any, contact: Any) -> str:
    return str(request.route_path("customers.detail", id=contact.customer_id))


@hookimpl(trylast=True)
def kehu_demo_data(ctx: Any) -> None:
    """~200 customers for the demo users (run after the core has created them)."""
    from .demo import add_demo_customers

    add_demo_customers(ctx)
