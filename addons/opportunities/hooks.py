"""What the opportunities addon adds to the core (permissions, notification kinds, the overdue
job), to the customers addon (a customer's value, pool-return exemption) and — when installed —
to the leads addon's conversion (an opportunity step)."""

from __future__ import annotations

from typing import Any

from core.contributions import MenuItem, NotificationKind, PeriodicJob, Permission
from core.i18n import _
from core.plugins import hookimpl

EVERYONE = ("admin", "sales_manager", "sales", "service", "marketing", "auditor")
SELLERS = ("admin", "sales_manager", "sales")
MANAGERS = ("admin", "sales_manager")


@hookimpl
def kehu_menus() -> list[MenuItem]:
    return [
        MenuItem(id="opportunities.list", title=_("Opportunities"), route="opportunities.opportunities.list",
                 icon="briefcase", order=40, permission="opportunities.opportunity:read"),
        MenuItem(id="opportunities.board", title=_("Pipeline board"), route="opportunities.board", icon="kanban",
                 order=41, permission="opportunities.opportunity:read"),
        MenuItem(id="opportunities.ranking", title=_("Opportunity ranking"), route="opportunities.ranking.list",
                 icon="sort-numeric-down", order=42, permission="opportunities.opportunity:read"),
        MenuItem(id="opportunities.forecast", title=_("Sales forecast"), route="opportunities.forecast",
                 icon="graph-up", order=43, permission="opportunities.report:read"),
        MenuItem(id="opportunities.pipelines", title=_("Pipelines"), route="opportunities.pipelines",
                 icon="diagram-3", order=44, permission="opportunities.settings:admin"),
        MenuItem(id="opportunities.scoring", title=_("Opportunity scoring"), route="opportunities.scoring",
                 icon="sliders", order=45, permission="opportunities.settings:admin"),
        MenuItem(id="opportunities.targets", title=_("Sales targets"), route="opportunities.targets",
                 icon="bullseye", order=46, permission="opportunities.settings:admin"),
    ]


@hookimpl
def kehu_record_panels(request: Any, record: Any) -> list[Any]:
    """The customer page's opportunities (360°)."""
    from .panels import record_panels

    return record_panels(request, record)


@hookimpl
def kehu_permissions() -> list[Permission]:
    """Each role's record scope (own … all) applies on top, as for customers."""
    return [
        Permission("opportunities.opportunity:read", _("Read opportunities"), default_roles=EVERYONE),
        Permission("opportunities.opportunity:create", _("Create and import opportunities"), default_roles=SELLERS),
        Permission("opportunities.opportunity:write", _("Edit opportunities and move their stages"),
                   default_roles=SELLERS),
        Permission("opportunities.opportunity:delete", _("Delete opportunities"), default_roles=MANAGERS),
        Permission("opportunities.opportunity:export", _("Export opportunities and their scores"),
                   default_roles=MANAGERS),
        Permission("opportunities.report:read", _("See the sales forecast and reports"), default_roles=MANAGERS),
        Permission("opportunities.settings:admin", _("Configure pipelines, scoring and sales targets"),
                   default_roles=("admin",)),
    ]


@hookimpl
def kehu_notification_kinds() -> list[NotificationKind]:
    return [
        NotificationKind(key="opportunities.assigned", title=_("Opportunities are assigned to me"),
                         default_channels=("app",)),
        NotificationKind(key="opportunities.stage_changed", title=_("An opportunity I follow changed stage"),
                         default_channels=("app",)),
        NotificationKind(key="opportunities.won", title=_("An opportunity I follow was won"),
                         default_channels=("app", "email")),
        NotificationKind(key="opportunities.lost", title=_("An opportunity I follow was lost"),
                         default_channels=("app", "email")),
        NotificationKind(key="opportunities.overdue", title=_("An opportunity I follow is past its close date"),
                         default_channels=("app", "email")),
    ]


@hookimpl
def kehu_periodic_jobs() -> list[PeriodicJob]:
    """Opportunities past their expected close date, once a day per date (a missed run is
    caught up by the next); every open opportunity rescored nightly (recency and age move)."""
    from .scoring import nightly
    from .services import notify_overdue

    return [PeriodicJob(name="opportunities.overdue", cron="5 1 * * *", func=notify_overdue),
            PeriodicJob(name="opportunities.rescore", cron="35 19 * * *", func=nightly)]  # 03:35 in China


@hookimpl
def customers_value(ctx: Any, customer_ids: list[int]) -> dict[int, Any]:
    """A customer's value: the sum of its won opportunities."""
    from .services import won_amounts

    return won_amounts(ctx, customer_ids)


@hookimpl
def customers_pool_return_exempt(ctx: Any, customer_ids: list[int]) -> list[int]:
    """A customer with an open opportunity is being worked: it does not go back to the pool."""
    from .conversion import customers_with_open_opportunities

    return customers_with_open_opportunities(ctx, customer_ids)


@hookimpl
def leads_conversion_steps(ctx: Any, lead: Any) -> list[Any]:
    """"Open an opportunity" on the lead conversion page (when leads is installed too)."""
    from .conversion import conversion_steps

    return conversion_steps(ctx, lead)


@hookimpl
def leads_converted(ctx: Any, conversion: Any) -> None:
    """The opportunity the user asked for on the conversion page or in the API."""
    from .conversion import open_from_lead

    open_from_lead(ctx, conversion)


@hookimpl
def kehu_record_changed(ctx: Any, change: Any) -> None:
    """A customer's follow-up or level feeds its opportunities' scores (S3): rescore them."""
    from .scoring import customer_changed

    customer_changed(ctx, change)


@hookimpl(wrapper=True)
def kehu_demo_data(ctx: Any) -> Any:
    """Opportunities for the demo customers, once the other addons' demo data is in (the
    customers' companies, the leads' conversions): a wrapper runs around the plain ones."""
    result = yield
    from .demo import add_demo_opportunities

    add_demo_opportunities(ctx)
    return result


@hookimpl
def kehu_record_links(ctx: Any, table: str, ids: list[int]) -> dict[int, Any]:
    """opportunitys as other addons link them (a calendar item about one), in the reader's scope."""
    if table != "opportunities_opportunity":
        return {}
    from core.links import scoped_links

    from .models import Opportunity

    return scoped_links(ctx, Opportunity, ids, "title", "/opportunities/{id}", _("Opportunity"))
