"""``kehu user create | passwd | disable | enable``."""

from __future__ import annotations

import click
from sqlalchemy import select

from core.access.exceptions import UnknownRole
from core.cli.environment import CliEnvironment
from core.cli.output import say
from core.i18n import _
from core.models import Role
from core.org.services import root_department
from core.users.services import create_user, get_user_by_username, set_active, set_password


@click.group()
def user() -> None:
    """Manage users from the command line."""


@user.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="KEHU_NEW_PASSWORD")
@click.option("--name", "display_name", default="", help="Display name (张三).")
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Shorthand for --role admin: every permission.")
@click.option("--role", "roles", multiple=True,
              help="A role key (admin, sales_manager, sales, service, marketing, auditor, or your own); "
                   "repeatable. Default: sales.")
@click.pass_obj
def create(env: CliEnvironment, username: str, password: str, display_name: str, email: str | None,
           admin: bool, roles: tuple[str, ...]) -> None:
    """Create USERNAME in the top department."""
    wanted = list(roles) or ["sales"]
    if admin:
        wanted.append("admin")
    with env.ctx() as ctx:
        unknown = set(wanted) - set(ctx.dbsession.scalars(select(Role.key)))
        if unknown:
            raise UnknownRole(key=", ".join(sorted(unknown)))
        created = create_user(ctx, username, password, display_name=display_name, email=email,
                              roles=wanted, department_id=root_department(ctx).id)
        if admin:
            say(_("Created administrator ${username} (id ${id})."), username=created.username, id=created.id)
        else:
            say(_("Created user ${username} (id ${id})."), username=created.username, id=created.id)


@user.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="KEHU_NEW_PASSWORD")
@click.pass_obj
def passwd(env: CliEnvironment, username: str, password: str) -> None:
    """Set USERNAME's password; their open sessions end."""
    with env.ctx() as ctx:
        set_password(ctx, get_user_by_username(ctx, username), password)
    say(_("Password of ${username} changed; their sessions were ended."), username=username)


@user.command("disable")
@click.argument("username")
@click.pass_obj
def disable(env: CliEnvironment, username: str) -> None:
    """Stop USERNAME from signing in and end their sessions."""
    with env.ctx() as ctx:
        set_active(ctx, get_user_by_username(ctx, username), False)
    say(_("Disabled ${username}."), username=username)


@user.command("enable")
@click.argument("username")
@click.pass_obj
def enable(env: CliEnvironment, username: str) -> None:
    """Let a disabled USERNAME sign in again."""
    with env.ctx() as ctx:
        set_active(ctx, get_user_by_username(ctx, username), True)
    say(_("Enabled ${username}."), username=username)
