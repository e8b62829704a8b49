"""What the leads addon adds to the core (menu, permissions, the notification kinds, the periodic
automatic return and nurture reminders, the workbench cards, demo data), to the customers
addon (its leads in 查重) and to the calendar (a lead's next follow-up moved or ticked off
there)."""

from __future__ import annotations

from typing import Any

from core.contributions import MenuItem, NotificationKind, PeriodicJob, Permission
from core.i18n import _
from core.plugins import hookimpl

EVERYONE = ("admin", "sales_manager", "sales", "service", "marketing", "auditor")
SELLERS = ("admin", "sales_manager", "sales", "marketing")
MANAGERS = ("admin", "sales_manager")


@hookimpl
def kehu_menus() -> list[MenuItem]:
    return [
        MenuItem(id="leads.list", title=_("Leads"), route="leads.leads.list", icon="funnel", order=30,
                 permission="leads.lead:read"),
        MenuItem(id="leads.pool", title=_("Lead pool"), route="leads.pool.list", icon="inbox", order=31,
                 permission="leads.pool:claim"),
        MenuItem(id="leads.pools", title=_("Lead pools"), route="leads.pools", icon="sliders", order=32,
                 permission="leads.pool:admin"),
        MenuItem(id="leads.rules", title=_("Assignment rules"), route="leads.rules", icon="diagram-3", order=33,
                 permission="leads.pool:admin"),
        MenuItem(id="leads.assignees", title=_("Lead assignees"), route="leads.assignees", icon="person-gear",
                 order=34, permission="leads.pool:admin"),
    ]


@hookimpl
def kehu_permissions() -> list[Permission]:
    """Each role's record scope (own … all) applies on top, as for customers."""
    return [
        Permission("leads.lead:read", _("Read leads"), default_roles=EVERYONE),
        Permission("leads.lead:create", _("Create and import leads"), default_roles=SELLERS),
        Permission("leads.lead:write", _("Edit leads"), default_roles=SELLERS),
        Permission("leads.lead:delete", _("Delete leads"), default_roles=MANAGERS),
        Permission("leads.lead:export", _("Export leads"), default_roles=MANAGERS),
        Permission("leads.lead:see_sensitive", _("See leads' phone numbers, e-mail and WeChat"),
                   default_roles=MANAGERS),
        Permission("leads.followup:read", _("Read follow-ups on leads"), default_roles=EVERYONE),
        Permission("leads.followup:create", _("Add follow-ups on leads"), default_roles=SELLERS),
        Permission("leads.pool:claim", _("Claim leads from the lead pools"), default_roles=("admin", "sales_manager",
                                                                                             "sales")),
        Permission("leads.pool:admin", _("Configure the lead pools and assignment rules"), default_roles=("admin",)),
    ]


@hookimpl
def kehu_notification_kinds() -> list[NotificationKind]:
    return [NotificationKind(key="leads.returned", title=_("A lead of mine went back to the pool"),
                             default_channels=("app",)),
            NotificationKind(key="leads.assigned", title=_("A lead is assigned to me"),
                             default_channels=("app",)),
            NotificationKind(key="leads.nurture_due", title=_("A lead I nurture is due for follow-up"),
                             default_channels=("app", "email"))]


@hookimpl
def kehu_periodic_jobs() -> list[PeriodicJob]:
    """Leads nobody followed up go back to their pool, hourly (a missed hour is caught up); the
    owners of leads in nurture are reminded when the next follow-up is due, every 30 minutes
    (once per due time)."""
    from .nurture import remind_job
    from .pool import auto_return_due

    return [PeriodicJob(name="leads.pool.auto_return", cron="17 * * * *", func=auto_return_due),
            PeriodicJob(name="leads.nurture.remind", cron="7,37 * * * *", func=remind_job)]


@hookimpl
def kehu_dashboard_widgets(request: Any) -> list[Any]:
    """My leads due for follow-up; leads by source and status in my scope; by owner for managers."""
    from .dashboard import widgets

    return widgets(request)


@hookimpl
def customers_duplicate_candidates(ctx: Any, query: Any) -> list[Any]:
    """Leads of the same company, mobile or e-mail in every 查重 (D-DUP)."""
    from .duplicates import lead_candidates

    return lead_candidates(ctx, query)


@hookimpl(wrapper=True)
def kehu_demo_data(ctx: Any) -> Any:
    """Leads for the demo users, once every other addon's demo data is in (the customers addon's
    users and companies, which some leads share): a wrapper runs around all the plain ones."""
    result = yield
    from .demo import add_demo_leads

    add_demo_leads(ctx)
    return result


@hookimpl
def kehu_record_links(ctx: Any, table: str, ids: list[int]) -> dict[int, Any]:
    """leads as other addons link them (a calendar item about one), in the reader's scope."""
    if table != "leads_lead":
        return {}
    from core.links import scoped_links

    from .models import Lead

    return scoped_links(ctx, Lead, ids, "name", "/leads/{id}", _("Lead"))


@hookimpl
def calendar_item_changed(ctx: Any, change: Any) -> None:
    """A lead's next follow-up moved, done or deleted on the calendar moves or clears it on the
    lead (K2). Only the calendar calls it; without the calendar installed it simply waits."""
    from .plans import apply_calendar_change

    apply_calendar_change(ctx, change)
