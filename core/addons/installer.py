"""Install, upgrade and uninstall addons in a database: the services behind the CLI and the
Apps page (F3). Every call is all or nothing: it runs in a savepoint of the caller's
transaction, so a failing migration or data load leaves the database exactly as it was."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from core.access.roles import sync_declared_permissions
from core.addons.catalog import AddonCatalog
from core.addons.exceptions import (
    DatabaseNotInitialised,
    DependentDataKept,
    DependentsInstalled,
    InstallFailed,
    NotInstalled,
    PackageMissing,
)
from core.addons.manifest import AddonSpec
from core.addons.migrations import CORE_MIGRATIONS, downgrade_to_base, upgrade_to_head, version_table
from core.audit.services import write_audit
from core.context import Ctx
from core.exceptions import KehuError
from core.models import ADDON_INSTALLED, ADDON_UNINSTALLED, Addon, RegistryVersion


def migrate_core(session: Session) -> None:
    """Bring the core's own tables to their latest revision (``kehu init``, ``kehu db upgrade``)."""
    upgrade_to_head(session.connection(), "core", CORE_MIGRATIONS)


def is_initialised(session: Session) -> bool:
    return inspect(session.connection()).has_table(RegistryVersion.__tablename__)


def registry_version(session: Session) -> int:
    """The counter every install, upgrade and uninstall bumps (see ``RegistryVersion``)."""
    return registry_versions(session)[0]


def registry_versions(session: Session) -> tuple[int, int]:
    """The registry version and the configuration version, in one primary-key read."""
    row = session.execute(select(RegistryVersion.version, RegistryVersion.config_version)
                          .where(RegistryVersion.id == 1)).one()
    return row[0], row[1]


def installed_names(session: Session) -> set[str]:
    rows = session.scalars(select(Addon.name).where(Addon.state == ADDON_INSTALLED))
    return set(rows)


def installed_versions(session: Session) -> dict[str, str]:
    rows = session.execute(select(Addon.name, Addon.version).where(Addon.state == ADDON_INSTALLED))
    return dict(rows.all())


def install_addons(ctx: Ctx, catalog: AddonCatalog, names: Iterable[str]) -> list[str]:
    """Install ``names`` and their dependencies, dependencies first; return those newly installed.

    Raises UnknownAddon / MissingDependency / DependencyCycle before touching the database, and
    InstallFailed (naming the addon) after rolling everything back."""
    ctx.access.require("core.addon:install")
    session = ctx.dbsession
    _require_initialised(session)
    order = catalog.install_order(names)
    already = installed_names(session)
    todo = [spec for spec in order if spec.name not in already]
    if not todo:
        return []
    _apply(ctx, todo, catalog)
    return [spec.name for spec in todo]


def upgrade_addons(ctx: Ctx, catalog: AddonCatalog, names: Iterable[str] | None = None) -> list[str]:
    """Run pending migrations and data loads of installed addons (all of them by default)."""
    ctx.access.require("core.addon:install")
    session = ctx.dbsession
    _require_initialised(session)
    installed = installed_names(session)
    # An addon whose package was pip-uninstalled first is skipped here, so the others still
    # upgrade; ``kehu addons uninstall`` can still mark it uninstalled.
    wanted = set(names) if names is not None else {name for name in installed if name in catalog}
    for name in wanted - installed:
        catalog.get(name)  # an unknown name is reported as unknown, not "not installed"
        raise NotInstalled(name=name)
    order = [spec for spec in catalog.install_order(sorted(wanted)) if spec.name in wanted]
    _apply(ctx, order, catalog)
    return [spec.name for spec in order]


def uninstall_addon(ctx: Ctx, catalog: AddonCatalog, name: str, *, drop_data: bool = False) -> None:
    """Mark ``name`` uninstalled (its routes, menus and hooks go quiet at once).

    Refused while an installed addon depends on it. With ``drop_data`` its migrations are run
    down to base, dropping its tables; without, the data stays for a later reinstall."""
    ctx.access.require("core.addon:install")
    session = ctx.dbsession
    _require_initialised(session)
    installed = installed_names(session)
    if name not in installed:
        catalog.get(name)  # unknown and not installed: say "unknown"
        raise NotInstalled(name=name)
    spec = catalog.get(name) if name in catalog else None
    if spec is None and drop_data:
        raise PackageMissing(name=name)
    dependents = sorted(catalog.dependents(name) & installed)
    if dependents:
        raise DependentsInstalled(name=name, dependents=dependents)
    if drop_data:
        connection = session.connection()
        keeping = sorted(d for d in catalog.dependents(name) if inspect(connection).has_table(version_table(d)))
        if keeping:
            raise DependentDataKept(name=name, dependents=keeping)
    with session.begin_nested():
        if drop_data and spec is not None and spec.migrations_path:
            downgrade_to_base(session.connection(), spec.name, spec.migrations_path)
        session.execute(
            update(Addon).where(Addon.name == name).values(state=ADDON_UNINSTALLED, updated_at=ctx.now)
        )
        write_audit(ctx, "addon_uninstall", model="core_addon", record_id=name,
                    detail="tables dropped" if drop_data else "data kept")
        bump_registry_version(session)


def bump_registry_version(session: Session) -> None:
    session.execute(
        update(RegistryVersion).where(RegistryVersion.id == 1).values(version=RegistryVersion.version + 1)
    )


def _apply(ctx: Ctx, specs: list[AddonSpec], catalog: AddonCatalog) -> None:
    session = ctx.dbsession
    current = None
    try:
        with session.begin_nested():
            for spec in specs:
                current = spec
                if spec.migrations_path:
                    upgrade_to_head(session.connection(), spec.name, spec.migrations_path)
                _load_data(ctx, spec)
                sync_declared_permissions(ctx, _declared_by(spec))
                upgrading = _record_installed(session, spec, ctx)
                write_audit(ctx, "addon_upgrade" if upgrading else "addon_install", model="core_addon",
                            record_id=spec.name, changes={"version": [upgrading, spec.version]})
            bump_registry_version(session)
    except KehuError as exc:
        raise InstallFailed(name=current.name if current else "?", reason=exc.translated(ctx.locale)) from exc
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        raise InstallFailed(name=current.name if current else "?", reason=reason) from exc


def _load_data(ctx: Ctx, spec: AddonSpec) -> None:
    for target in spec.data:
        module_name, _, func_name = target.partition(":")
        module = importlib.import_module(f"{spec.package}.{module_name}")
        getattr(module, func_name or "load")(ctx)
    ctx.dbsession.flush()


def _record_installed(session: Session, spec: AddonSpec, ctx: Ctx) -> str | None:
    """Mark ``spec`` installed; return the version it is upgraded from, if it was installed."""
    row = session.get(Addon, spec.name)
    upgraded_from = None
    if row is None:
        session.add(Addon(name=spec.name, version=spec.version, state=ADDON_INSTALLED, installed_at=ctx.now))
    else:
        if row.state != ADDON_INSTALLED:
            row.installed_at = ctx.now
        else:
            upgraded_from = row.version
        row.version = spec.version
        row.state = ADDON_INSTALLED
    session.flush()
    return upgraded_from


def _declared_by(spec: AddonSpec) -> list:
    """The permissions ``spec`` itself declares (its ``hooks.kehu_permissions``)."""
    if not spec.hooks_module:
        return []
    module = importlib.import_module(spec.hooks_module)
    declare = getattr(module, "kehu_permissions", None)
    return list(declare()) if declare else []


def _require_initialised(session: Session) -> None:
    if not is_initialised(session):
        raise DatabaseNotInitialised()
