"""The core hooks: the whole public surface through which addons extend Kehu.

Each hookspec says when it is called, what to return, and shows an example. Only installed
addons' hookimpls are called. docs/hooks.md lists every one of them; a test fails when a hook
here is missing there or documented with another signature.
"""

from __future__ import annotations

from typing import Any

from core.contributions import (
    DashboardWidget,
    JobHandler,
    MenuItem,
    NotificationKind,
    PeriodicJob,
    Permission,
    RecordChange,
    RecordLink,
    RecordPanel,
    SearchProvider,
)
from core.plugins import hookspec


@hookspec
def kehu_menus() -> list[MenuItem]:
    """Called once per change of installed addons to build the sidebar; return menu items.

    Items are filtered per user by their ``permission``; an ``id`` used twice is an error at
    start-up. Example::

        @hookimpl
        def kehu_menus():
            return [MenuItem(id="customers.list", title=_("Customers"), route="customers.list",
                             icon="people", order=20, permission="customers.customer:read")]
    """


@hookspec
def kehu_dashboard_widgets(request: Any) -> list[DashboardWidget]:
    """Called when the workbench (home page) renders; return the cards this addon adds.

    Example::

        @hookimpl
        def kehu_dashboard_widgets(request):
            return [DashboardWidget(id="customers.due", title=_("Follow-ups due today"),
                                    template="addons.customers:templates/customers/due.jinja2",
                                    context=due_followups, order=10)]
    """


@hookspec
def kehu_record_panels(request: Any, record: Any) -> list[RecordPanel]:
    """Called when a record's 360° page renders; return panels for ``record`` (or ``[]``).

    Check the record's type: every addon is asked about every record. Pages load panels lazily
    (``panels_for(request, record, lazy=True)``): each panel's ``context`` runs when its frame
    fetches ``/panels/<id>?model=<table>&id=<id>``, on the record found again in the reader's
    scope (an ``Owned`` model's scope, or the loader its addon registered with
    ``config.add_record_loader(table, loader)``). Example::

        @hookimpl
        def kehu_record_panels(request, record):
            if record.__tablename__ != "customers_customer":
                return []
            return [RecordPanel(id="orders.for_customer", title=_("Orders"),
                                template="addons.orders:templates/orders/panel.jinja2",
                                context=lambda request, record: {"orders": ...})]
    """


@hookspec
def kehu_record_changed(ctx: Any, change: RecordChange) -> None:
    """Called by a service after it created, updated or deleted a record, inside the same
    transaction; raise to refuse the whole change. Return nothing. Example::

        @hookimpl
        def kehu_record_changed(ctx, change):
            if change.model == "customers_customer" and change.action == "deleted":
                cancel_reminders_for(ctx, "customers_customer", change.record_id)
    """


@hookspec
def kehu_search_providers() -> list[SearchProvider]:
    """Called when global search runs; return providers, each searching one kind of record.

    Example::

        @hookimpl
        def kehu_search_providers():
            return [SearchProvider(id="customers", title=_("Customers"), search=search_customers,
                                   permission="customers.customer:read")]
    """


@hookspec
def kehu_notification_kinds() -> list[NotificationKind]:
    """Called when ``core.notifications.services.notify`` sends and when a user opens their
    notification settings; return the kinds of notification this addon sends.

    A ``key`` declared twice is an error. Send one with ``notify(ctx, users, key, record,
    message)``. Example::

        @hookimpl
        def kehu_notification_kinds():
            return [NotificationKind(key="customers.assigned", title=_("A customer is assigned to me"),
                                     default_channels=("app", "email"))]
    """


@hookspec
def kehu_periodic_jobs() -> list[PeriodicJob]:
    """Called when workers start; return jobs to run on a cron schedule. Example::

        @hookimpl
        def kehu_periodic_jobs():
            return [PeriodicJob(name="customers.pool.auto_return", cron="0 2 * * *",
                                func=auto_return_to_pool)]
    """


@hookspec
def kehu_job_handlers() -> list[JobHandler]:
    """Called when a worker starts; return the handlers of the jobs this addon enqueues with
    ``core.jobs.queue.enqueue(ctx, name, payload)``. Example::

        @hookimpl
        def kehu_job_handlers():
            return [JobHandler(name="customers.import", func=run_customer_import, timeout_seconds=1800)]
    """


@hookspec
def kehu_permissions() -> list[Permission]:
    """Called at start-up and when roles are edited; return the permissions this addon
    defines, each with the seeded roles that hold it by default. Example::

        @hookimpl
        def kehu_permissions():
            return [Permission("customers.customer:read", _("Read customers"),
                               default_roles=("admin", "sales_manager", "sales"))]
    """


@hookspec
def kehu_record_links(ctx: Any, table: str, ids: list[int]) -> dict[int, RecordLink]:
    """Called when a page or the API shows links to records of other addons (a calendar item
    "about" a customer) and when such a link is made, once per table: return
    ``{id: RecordLink}`` for the ``ids`` of ``table`` that your addon owns *and* the user may
    read (X1); leave out the others — the caller then says the record is unavailable. Use
    ``core.links.record_links``, which groups the ids and calls this. Example::

        @hookimpl
        def kehu_record_links(ctx, table, ids):
            if table != "customers_customer" or not ctx.access.can("customers.customer:read"):
                return {}
            rows = ctx.dbsession.execute(scoped_select(ctx, Customer).where(Customer.id.in_(ids)))
            return {c.id: RecordLink(c.name, f"/customers/{c.id}", _("Customer")) for c in rows.scalars()}
    """


@hookspec
def kehu_demo_data(ctx: Any) -> None:
    """Called by ``kehu demo`` after the addons are installed; add demo records with ``ctx``.

    Must be idempotent: a second ``kehu demo`` on the same database adds nothing. Example::

        @hookimpl
        def kehu_demo_data(ctx):
            if not ctx.dbsession.scalar(select(Customer.id).limit(1)):
                ctx.dbsession.add_all(make_demo_customers())
    """
