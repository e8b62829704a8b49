"""The core's own hookimpls: it builds its menus, workbench, search and jobs through the same
hooks addons use, so every hook is exercised from the first day (STYLE habit 8)."""

from __future__ import annotations

from sqlalchemy import or_, select

from core.context import Ctx
from core.contributions import (
    DashboardWidget,
    JobHandler,
    MenuItem,
    NotificationKind,
    PeriodicJob,
    Permission,
    RecordChange,
    RecordPanel,
    SearchHit,
    SearchProvider,
)
from core.i18n import _
from core.plugins import hookimpl

ALL_ROLES = ("admin", "sales_manager", "sales", "service", "marketing", "auditor")


@hookimpl
def kehu_permissions() -> list[Permission]:
    return [
        Permission("core.workbench:read", _("Open the workbench"), default_roles=ALL_ROLES),
        Permission("core.addon:read", _("See installed apps"), default_roles=("admin", "auditor")),
        Permission("core.addon:install", _("Install and uninstall apps"), default_roles=("admin",)),
        Permission("core.user:read", _("See users"), default_roles=("admin", "sales_manager", "auditor")),
        Permission("core.user:write", _("Create and edit users"), default_roles=("admin",)),
        Permission("core.department:read", _("See departments"), default_roles=("admin", "sales_manager", "auditor")),
        Permission("core.department:write", _("Create and edit departments"), default_roles=("admin",)),
        Permission("core.role:read", _("See roles and their permissions"), default_roles=("admin", "auditor")),
        Permission("core.role:write", _("Edit roles and their permissions"), default_roles=("admin",)),
        Permission("core.custom_field:admin", _("Define custom fields"), default_roles=("admin",)),
        Permission("core.audit:read", _("Read the audit log"), default_roles=("admin", "auditor")),
        Permission("core.audit:export", _("Export the audit log"), default_roles=("admin", "auditor")),
        Permission("core.job:read", _("See background jobs"), default_roles=("admin", "auditor")),
        Permission("core.job:write", _("Retry and cancel background jobs"), default_roles=("admin",)),
    ]


@hookimpl
def kehu_record_changed(ctx: Ctx, change: RecordChange) -> None:
    """Every create, update and delete a service reports is audited, in its transaction."""
    from core.audit.services import write_audit

    action = {"created": "create", "updated": "update", "deleted": "delete", "restored": "restore",
              "purged": "purge"}.get(change.action, change.action)
    write_audit(ctx, action, model=change.model, record_id=change.record_id,
                changes={field: list(pair) for field, pair in change.changes.items()})


@hookimpl
def kehu_record_panels(request: object, record: object) -> list[RecordPanel]:
    """The history tab of every record: its own audit entries."""
    if not hasattr(record, "__tablename__") or not hasattr(record, "id"):
        return []
    return [RecordPanel(id="core.history", title=_("History"), template="core/panels/history.jinja2",
                        context=_history_context, order=1000)]


def _history_context(request: object, record: object) -> dict:
    from core.audit.services import record_history

    return {"entries": record_history(request.ctx, record.__tablename__, record.id)}  # type: ignore[attr-defined]


@hookimpl
def kehu_menus() -> list[MenuItem]:
    return [
        MenuItem(id="core.home", title=_("Workbench"), route="core.home", icon="speedometer2", order=0,
                 permission="core.workbench:read"),
        MenuItem(id="core.settings", title=_("Settings"), icon="gear", order=900),
        MenuItem(id="core.apps", title=_("Apps"), route="core.apps", icon="grid-3x3-gap", order=10,
                 parent="core.settings", permission="core.addon:read"),
        MenuItem(id="core.users", title=_("Users"), route="core.users", icon="people", order=20,
                 parent="core.settings", permission="core.user:read"),
        MenuItem(id="core.departments", title=_("Departments"), route="core.departments", icon="diagram-3", order=30,
                 parent="core.settings", permission="core.department:read"),
        MenuItem(id="core.roles", title=_("Roles"), route="core.roles", icon="shield-lock", order=40,
                 parent="core.settings", permission="core.role:read"),
        MenuItem(id="core.custom_fields", title=_("Custom fields"), route="core.custom_fields",
                 icon="input-cursor-text", order=45, parent="core.settings", permission="core.custom_field:admin"),
        MenuItem(id="core.audit", title=_("Audit log"), route="core.audit", icon="journal-text", order=50,
                 parent="core.settings", permission="core.audit:read"),
        MenuItem(id="core.jobs", title=_("Background jobs"), route="core.jobs", icon="gear-wide-connected", order=60,
                 parent="core.settings", permission="core.job:read"),
        MenuItem(id="core.profile", title=_("My preferences"), route="core.profile", icon="person-gear",
                 order=90, parent="core.settings"),
    ]


@hookimpl
def kehu_dashboard_widgets(request: object) -> list[DashboardWidget]:
    return [
        DashboardWidget(id="core.welcome", title=_("Welcome"), template="core/widgets/welcome.jinja2",
                        context=_welcome_context, order=0, width=12),
    ]


def _welcome_context(request: object) -> dict:
    state = request.addons  # type: ignore[attr-defined]
    runtime = request.registry["kehu.addons"]  # type: ignore[attr-defined]
    apps = [spec for spec in runtime.order if spec.name in state.installed]
    return {"installed_apps": apps, "available_count": len(runtime.order)}


@hookimpl
def kehu_search_providers() -> list[SearchProvider]:
    return [SearchProvider(id="core.users", title=_("Users"), search=_search_users, order=900,
                           permission="core.user:read",
                           more_url=lambda request, q: request.route_path("core.users", _query={"q": q}))]


def _search_users(request: object, query: str, limit: int) -> list[SearchHit]:
    from core.models import User

    users = request.dbsession.scalars(  # type: ignore[attr-defined]
        select(User).where(or_(User.username.icontains(query, autoescape=True),
                               User.display_name.icontains(query, autoescape=True)))
        .order_by(User.username).limit(limit)
    )
    editable = request.has_permission("core.user:write")  # type: ignore[attr-defined]
    return [SearchHit(title=user.label, kind=_("User"), detail=user.username,
                      url=request.route_path("core.users.edit", id=user.id) if editable else "")  # type: ignore[attr-defined]
            for user in users]


@hookimpl
def kehu_periodic_jobs() -> list[PeriodicJob]:
    from core.files import purge_expired_files
    from core.users.services import purge_expired_sessions

    return [PeriodicJob(name="core.purge_expired_sessions", cron="17 3 * * *", func=purge_expired_sessions),
            PeriodicJob(name="core.purge_expired_files", cron="37 3 * * *", func=purge_expired_files)]


@hookimpl
def kehu_job_handlers() -> list[JobHandler]:
    from core.imports.jobs import IMPORT_BATCH_JOB, run_import_batch
    from core.lists.export import EXPORT_CHUNK_JOB, run_export_chunk
    from core.notifications.mail import EMAIL_JOB, send_notification_email

    # A mail server may be away for a while: more tries than the default before a mail is dead.
    return [JobHandler(name=EMAIL_JOB, func=send_notification_email, timeout_seconds=120, max_attempts=8),
            JobHandler(name=EXPORT_CHUNK_JOB, func=run_export_chunk, timeout_seconds=300, max_attempts=3),
            JobHandler(name=IMPORT_BATCH_JOB, func=run_import_batch, timeout_seconds=300, max_attempts=3)]


@hookimpl
def kehu_notification_kinds() -> list[NotificationKind]:
    from core.notifications.kinds import CORE_KINDS

    return list(CORE_KINDS)


@hookimpl
def kehu_demo_data(ctx: Ctx) -> None:
    """The demo company (``core.users.demo``): three sales regions, manager1–manager3 and
    sales1–sales8, so scopes can be tried at once and addons have owners for their records."""
    from core.users.demo import add_demo_users

    add_demo_users(ctx)
