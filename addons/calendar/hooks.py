"""What the calendar adds to the core (menu, permissions, notification kinds, the reminder job,
the workbench card, panels on other addons' records, demo data) and how it takes the follow-up
plans of the customers and leads addons — through their hooks, never by importing them."""

from __future__ import annotations

from typing import Any

from core.contributions import MenuItem, NotificationKind, PeriodicJob, Permission
from core.i18n import _
from core.plugins import hookimpl

EVERYONE = ("admin", "sales_manager", "sales", "service", "marketing", "auditor")
WRITERS = ("admin", "sales_manager", "sales", "service", "marketing")


@hookimpl
def kehu_menus() -> list[MenuItem]:
    return [
        MenuItem(id="calendar.week", title=_("Calendar"), route="calendar.home", icon="calendar3", order=20,
                 permission="calendar.item:read"),
        MenuItem(id="calendar.agenda", title=_("Agenda"), route="calendar.agenda", icon="list-task", order=21,
                 permission="calendar.item:read"),
        MenuItem(id="calendar.team", title=_("Team calendar"), route="calendar.team", icon="people", order=22,
                 permission="calendar.team:read"),
    ]


@hookimpl
def kehu_permissions() -> list[Permission]:
    """Each role's record scope (own … all) says whose calendars it reads and edits; private
    items stay their owner's and participants' whatever the scope."""
    return [
        Permission("calendar.item:read", _("Read calendars"), default_roles=EVERYONE),
        Permission("calendar.item:create", _("Add events and tasks"), default_roles=WRITERS),
        Permission("calendar.item:write", _("Edit events and tasks"), default_roles=WRITERS),
        Permission("calendar.item:delete", _("Delete events and tasks"), default_roles=WRITERS),
        Permission("calendar.team:read", _("See the team calendar"), default_roles=("admin", "sales_manager")),
    ]


@hookimpl
def kehu_notification_kinds() -> list[NotificationKind]:
    return [NotificationKind(key="calendar.reminder", title=_("Reminder of an event or task"),
                             default_channels=("app", "email")),
            NotificationKind(key="calendar.invited", title=_("I am invited to an event"),
                             default_channels=("app",)),
            NotificationKind(key="calendar.changed", title=_("An event I take part in is moved or cancelled"),
                             default_channels=("app",))]


@hookimpl
def kehu_periodic_jobs() -> list[PeriodicJob]:
    """Reminders every minute: a reminder is due at its minute, and taken once however many
    workers run."""
    from .reminders import remind_job

    return [PeriodicJob(name="calendar.reminders", cron="* * * * *", func=remind_job)]


@hookimpl
def customers_followup_planned(ctx: Any, plan: Any) -> None:
    """A customer's follow-up plan on its owner's calendar, linked to the customer (K2)."""
    from .followups import apply_plan

    apply_plan(ctx, "customers.plan", plan, "customers_customer", plan.customer_id)


@hookimpl
def leads_followup_planned(ctx: Any, plan: Any) -> None:
    """A lead's next follow-up on its owner's calendar, linked to the lead (K2)."""
    from .followups import apply_plan

    apply_plan(ctx, "leads.lead", plan, "leads_lead", plan.lead_id)


@hookimpl(wrapper=True)
def kehu_demo_data(ctx: Any) -> Any:
    """Meetings, visits and tasks for the demo users, once the others' demo data is in (the
    users, and the customers' follow-up plans that land on the calendar by themselves)."""
    result = yield
    from .demo import add_demo_items

    add_demo_items(ctx)
    return result


@hookimpl
def kehu_dashboard_widgets(request: Any) -> list[Any]:
    """The workbench's "today": my events, tasks due and follow-ups due."""
    from .dashboard import widgets

    return widgets(request)


@hookimpl
def kehu_record_panels(request: Any, record: Any) -> list[Any]:
    """What is planned about a customer, lead, opportunity … on its page."""
    from .panels import record_panels

    return record_panels(request, record)
