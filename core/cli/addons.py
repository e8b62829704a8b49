"""``kehu addons list | install | upgrade | uninstall | new``."""

from __future__ import annotations

from pathlib import Path

import click

from core.addons.installer import (
    install_addons,
    installed_versions,
    is_initialised,
    uninstall_addon,
    upgrade_addons,
)
from core.cli.environment import CliEnvironment
from core.cli.output import say, text
from core.i18n import _


@click.group()
def addons() -> None:
    """Install, upgrade and uninstall addons; scaffold a new one."""


@addons.command("list")
@click.pass_obj
def list_addons(env: CliEnvironment) -> None:
    """Every available addon, its version and whether it is installed."""
    with env.ctx(require_initialised=False) as ctx:
        versions = installed_versions(ctx.dbsession) if is_initialised(ctx.dbsession) else {}
    _order, broken = env.catalog.loadable_order()
    if not len(env.catalog) and not env.catalog.invalid:
        say(_("No addon is available (entry-point group kehu.addons is empty)."))
    for spec in env.catalog:
        state = text(_("installed")) if spec.name in versions else text(_("available"))
        if spec.name in broken:
            state = text(_("broken: ${problem}"), problem=broken[spec.name].translated())
        depends = text(_("  depends on: ${names}"), names=", ".join(spec.depends)) if spec.depends else ""
        click.echo(f"{spec.name:<24} {spec.version:<10} {state}{depends}")
    for name, error in sorted(env.catalog.invalid.items()):
        click.echo(f"{name:<24} {'?':<10} {text(_('broken: ${problem}'), problem=error.translated())}")
    for name in sorted(set(versions) - {spec.name for spec in env.catalog}):
        click.echo(f"{name:<24} {versions[name]:<10} {text(_('installed, but its package is missing'))}")


@addons.command("install")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def install(env: CliEnvironment, names: tuple[str, ...]) -> None:
    """Install NAMES and what they depend on, all or nothing."""
    with env.ctx(schema=True) as ctx:
        done = install_addons(ctx, env.catalog, names)
    if done:
        say(_("Installed: ${names}"), names=", ".join(done))
    else:
        say(_("Already installed."))


@addons.command("upgrade")
@click.argument("names", nargs=-1)
@click.pass_obj
def upgrade(env: CliEnvironment, names: tuple[str, ...]) -> None:
    """Run pending migrations and data of NAMES (default: every installed addon)."""
    with env.ctx(schema=True) as ctx:
        done = upgrade_addons(ctx, env.catalog, names or None)
    if done:
        say(_("Upgraded: ${names}"), names=", ".join(done))
    else:
        say(_("Nothing is installed."))


@addons.command("uninstall")
@click.argument("name")
@click.option("--drop-data", is_flag=True, help="Also drop the addon's tables (asks first).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def uninstall(env: CliEnvironment, name: str, drop_data: bool, yes: bool) -> None:
    """Uninstall NAME; refused while an installed addon depends on it."""
    with env.ctx():  # refuses an uninitialised database before asking anything
        pass
    if drop_data and not yes:
        click.confirm(text(_("Drop every table of ${name} and the data in them? This cannot be undone"), name=name),
                      abort=True)
    with env.ctx(schema=True) as ctx:
        uninstall_addon(ctx, env.catalog, name, drop_data=drop_data)
    if drop_data:
        say(_("Uninstalled: ${name} (tables dropped)"), name=name)
    else:
        say(_("Uninstalled: ${name} (data kept)"), name=name)


@addons.command("new")
@click.argument("name")
@click.option("--path", "target", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the package into.")
@click.option("--title", default=None, help="Display title (default: the name, capitalised).")
def new(name: str, target: Path, title: str | None) -> None:
    """Write a pip-installable addon package NAME under --path."""
    from core.scaffold import write_addon

    package_dir = write_addon(name, target, title=title)
    say(_("Written: ${path}"), path=package_dir)
    say(_("Next: ${command}"), command=f"pip install -e {package_dir} && kehu addons install {name}")
