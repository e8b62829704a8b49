"""``kehu init`` and ``kehu db …``: create and migrate the database."""

from __future__ import annotations

import secrets

import click

from core.addons.installer import install_addons, is_initialised, migrate_core, upgrade_addons
from core.cli.environment import CliEnvironment
from core.cli.output import say
from core.i18n import _
from core.models import User


def initialise(env: CliEnvironment, *, admin_username: str, admin_password: str, admin_email: str | None,
               addons: list[str]) -> tuple[bool, list[str]]:
    """Create the core tables and the first administrator (if there is none), then install
    ``addons``. Returns whether the admin was created and which addons were installed."""
    from sqlalchemy import select

    from core import hooks as core_hooks
    from core.access.roles import sync_declared_permissions
    from core.models import ADMIN_ROLE, Role, UserRole
    from core.org.services import root_department
    from core.users.services import create_user

    with env.ctx(require_initialised=False, schema=True) as ctx:
        migrate_core(ctx.dbsession)
    with env.ctx() as ctx:
        sync_declared_permissions(ctx, core_hooks.kehu_permissions())
        created = False
        admins = select(User.id).join(UserRole).join(Role).where(Role.key == ADMIN_ROLE).limit(1)
        if ctx.dbsession.scalar(admins) is None:
            create_user(ctx, admin_username, admin_password, email=admin_email, roles=[ADMIN_ROLE],
                        display_name="管理员", department_id=root_department(ctx).id)
            created = True
    installed: list[str] = []
    if addons:
        with env.ctx(schema=True) as ctx:
            installed = install_addons(ctx, env.catalog, addons)
    return created, installed


@click.command()
@click.option("--admin-username", default="admin", show_default=True)
@click.option("--admin-email", default=None)
@click.option("--admin-password", envvar="KEHU_ADMIN_PASSWORD", default=None,
              help="Default: a random one, printed once; KEHU_ADMIN_PASSWORD.")
@click.option("--addons", "addon_names", multiple=True, help="Addons to install (repeat or comma-separate).")
@click.option("--all-addons", is_flag=True, help="Install every available addon.")
@click.pass_obj
def init(env: CliEnvironment, admin_username: str, admin_email: str | None, admin_password: str | None,
         addon_names: tuple[str, ...], all_addons: bool) -> None:
    """Create the database tables, the first administrator and install addons."""
    names = [n for value in addon_names for n in value.split(",") if n]
    if all_addons:
        names = [spec.name for spec in env.catalog]
    password = admin_password or secrets.token_urlsafe(12)
    created, installed = initialise(env, admin_username=admin_username, admin_password=password,
                                    admin_email=admin_email, addons=names)
    say(_("Database ready: ${url}"), url=env.engine.url.render_as_string(hide_password=True))
    if created and not admin_password:
        say(_("Administrator: ${username} / ${password} (shown once: keep it safe)"),
            username=admin_username, password=password)
    elif created:
        say(_("Administrator: ${username}"), username=admin_username)
    if installed:
        say(_("Installed: ${names}"), names=", ".join(installed))


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(env: CliEnvironment) -> None:
    """Run pending migrations of the core and of every installed addon."""
    with env.ctx(require_initialised=False, schema=True) as ctx:
        fresh = not is_initialised(ctx.dbsession)
        migrate_core(ctx.dbsession)
    with env.ctx(schema=True) as ctx:
        upgraded = upgrade_addons(ctx, env.catalog)
    if fresh:
        say(_("Core tables created. Run “kehu init” to add the first administrator."))
    say(_("Up to date: ${names}"), names=", ".join(["core", *upgraded]))


@db.command("revision")
@click.argument("addon")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True, show_default=True,
              help="Compare the addon's models with the database.")
@click.pass_obj
def db_revision(env: CliEnvironment, addon: str, message: str, autogenerate: bool) -> None:
    """Write a new migration into ADDON's migrations/ folder (``core`` for the core)."""
    from core.addons.revisions import write_revision

    path = write_revision(env, addon, message, autogenerate=autogenerate)
    say(_("Written: ${path}"), path=path)
