"""The ``kehu`` command. Every error is one clear line and a non-zero exit, never a traceback.

Commands are thin: they build a ``Ctx`` and call the same services as the web pages.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from core.cli.environment import CliEnvironment
from core.cli.output import text
from core.exceptions import KehuError
from core.i18n import _
from core.settings import SettingsError


class KehuGroup(click.Group):
    """Turns the errors a user can meet into one translated line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KehuError as exc:
            _fail(exc.translated())
        except SettingsError as exc:
            _fail(str(exc))
        except OperationalError as exc:
            _fail(text(_("cannot use the database: ${reason}"), reason=str(exc.orig).strip().splitlines()[0]))
        except SQLAlchemyError as exc:
            _fail(text(_("database error: ${reason}"), reason=str(exc).splitlines()[0]))
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("KEHU_DEBUG"):
                raise
            _fail(text(_("unexpected ${kind}: ${reason} (set KEHU_DEBUG=1 for the traceback)"),
                       kind=type(exc).__name__, reason=str(exc).splitlines()[0] if str(exc) else ""))


def _fail(message: str) -> None:
    click.echo(click.style(text(_("Error: ")), fg="red", bold=True) + message, err=True)
    sys.exit(1)


@click.group(cls=KehuGroup)
@click.option("--config", "config_uri", envvar="KEHU_CONFIG", default=None,
              help="An ini file (config/production.ini); KEHU_CONFIG.")
@click.option("--database-url", envvar="KEHU_DATABASE_URL", default=None,
              help="SQLAlchemy URL; KEHU_DATABASE_URL. Default: sqlite:///var/kehu.sqlite")
@click.pass_context
def main(ctx: click.Context, config_uri: str | None, database_url: str | None) -> None:
    """Kehu (客户) CRM: set up, serve and administer an installation."""
    if ctx.obj is None:  # tests hand in an environment with their own catalog
        ctx.obj = CliEnvironment(config_uri=config_uri, database_url=database_url)


def _register() -> None:
    from core.cli import addons, database, demo, serve, tokens, users, worker

    main.add_command(database.init)
    main.add_command(demo.demo)
    main.add_command(serve.serve)
    main.add_command(addons.addons)
    main.add_command(users.user)
    main.add_command(tokens.token)
    main.add_command(database.db)
    main.add_command(worker.worker)
    main.add_command(worker.jobs)


_register()
