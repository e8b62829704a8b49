"""``kehu demo``: everything a newcomer needs, in one command, on the embedded SQLite default."""

from __future__ import annotations

import click

from core.addons.installer import install_addons
from core.cli.database import initialise
from core.cli.environment import CliEnvironment
from core.cli.output import say
from core.i18n import _
from core.users.demo import DEMO_LOGINS, DEMO_PASSWORD

DEMO_ADMIN = ("admin", DEMO_PASSWORD)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=6543, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
@click.pass_obj
def demo(env: CliEnvironment, host: str, port: int, no_serve: bool) -> None:
    """Create (or reuse) ./var/kehu.sqlite with every addon and demo data, then serve it."""
    username, password = DEMO_ADMIN
    created, _nothing = initialise(env, admin_username=username, admin_password=password, admin_email=None, addons=[])
    with env.ctx(schema=True) as ctx:
        installed = install_addons(ctx, env.catalog, [spec.name for spec in env.catalog])
    with env.ctx() as ctx:
        ctx.hooks.kehu_demo_data(ctx=ctx)
    database = env.engine.url.render_as_string(hide_password=True)
    if created:
        say(_("Database: ${url} (new)"), url=database)
    else:
        say(_("Database: ${url} (reused)"), url=database)
    if installed:
        say(_("Installed: ${names}"), names=", ".join(installed))
    say(_("Open ${url} and sign in as ${username} / ${password}"), url=f"http://{host}:{port}/",
        username=username, password=password)
    say(_("Other demo logins, with the same password: ${logins}"), logins=DEMO_LOGINS)
    if not no_serve:
        from core.cli.serve import run_gunicorn

        run_gunicorn(env, bind=f"{host}:{port}")
