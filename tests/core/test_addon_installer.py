"""Install, upgrade and uninstall through the services, on SQLite and PostgreSQL (F3)."""

import pytest
from sqlalchemy import inspect, select, text

from core.addons.exceptions import (
    DependencyCycle,
    DependentsInstalled,
    InstallFailed,
    MissingDependency,
    NotInstalled,
    PackageMissing,
    UnknownAddon,
)
from core.addons.installer import (
    install_addons,
    installed_names,
    installed_versions,
    registry_version,
    uninstall_addon,
    upgrade_addons,
)
from core.addons.migrations import current_revisions
from core.models import Addon

FIXTURES = "tests.fixtures.addons."


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(*(FIXTURES + n for n in (
        "alpha", "beta", "broken_migration", "broken_data", "ghost_dependent", "cycle_a", "cycle_b")))


@pytest.fixture
def env(kehu_db, cli_env, catalog):
    return cli_env(catalog)


def tables(env):
    with env.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def snapshot(env):
    """Everything an install may touch: tables, addon rows, registry version."""
    with env.ctx() as ctx:
        rows = sorted((a.name, a.version, a.state) for a in ctx.dbsession.scalars(select(Addon)))
        return tables(env), rows, registry_version(ctx.dbsession)


def test_install_puts_dependencies_first_and_records_them(env, catalog):
    with env.ctx() as ctx:
        done = install_addons(ctx, catalog, ["beta"])
    assert done == ["alpha", "beta"]
    with env.ctx() as ctx:
        assert installed_versions(ctx.dbsession) == {"alpha": "1.0.0", "beta": "0.3.0"}
        assert current_revisions(ctx.dbsession.connection(), "alpha") == ("a001",)
        # default data of alpha was loaded, once
        assert ctx.dbsession.execute(text("SELECT name FROM alpha_item")).scalars().all() == ["default"]
    assert {"alpha_item", "beta_thing"} <= tables(env)


def test_install_again_is_a_no_op(env, catalog):
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
        version = registry_version(ctx.dbsession)
    with env.ctx() as ctx:
        assert install_addons(ctx, catalog, ["alpha"]) == []
        assert registry_version(ctx.dbsession) == version


def test_install_bumps_registry_version(env, catalog):
    before = snapshot(env)[2]
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
    assert snapshot(env)[2] == before + 1


def test_unknown_addon_is_named(env, catalog):
    with env.ctx() as ctx, pytest.raises(UnknownAddon) as info:
        install_addons(ctx, catalog, ["nosuch"])
    assert "nosuch" in info.value.translated("en")


def test_missing_dependency_names_both_addons(env, catalog):
    before = snapshot(env)
    with env.ctx() as ctx, pytest.raises(MissingDependency) as info:
        install_addons(ctx, catalog, ["ghost_dependent"])
    message = info.value.translated("en")
    assert "ghost_dependent" in message and "ghost" in message
    assert snapshot(env) == before


def test_cycle_names_the_cycle(env, catalog):
    with env.ctx() as ctx, pytest.raises(DependencyCycle) as info:
        install_addons(ctx, catalog, ["cycle_a"])
    assert "cycle_a → cycle_b → cycle_a" in info.value.translated("en")


@pytest.mark.parametrize("broken", ["broken_migration", "broken_data"])
def test_failed_install_leaves_database_exactly_as_before(env, catalog, broken):
    before = snapshot(env)
    with env.ctx() as ctx, pytest.raises(InstallFailed) as info:
        install_addons(ctx, catalog, [broken])
    assert broken in info.value.translated("en")
    after = snapshot(env)
    assert after == before
    # neither the dependency (alpha) installed in the same call nor the first migration's table remain
    assert "alpha_item" not in after[0]
    assert "broken_migration_thing" not in after[0]
    assert "alpha_alembic_version" not in after[0]


def test_failed_install_keeps_earlier_installs(env, catalog):
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
    before = snapshot(env)
    with env.ctx() as ctx, pytest.raises(InstallFailed):
        install_addons(ctx, catalog, ["broken_data"])
    assert snapshot(env) == before
    with env.ctx() as ctx:
        names = ctx.dbsession.execute(text("SELECT name FROM alpha_item")).scalars().all()
    assert names == ["default"]


def test_uninstall_refused_while_a_dependent_is_installed(env, catalog):
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["beta"])
    with env.ctx() as ctx, pytest.raises(DependentsInstalled) as info:
        uninstall_addon(ctx, catalog, "alpha")
    assert "beta" in info.value.translated("en")
    with env.ctx() as ctx:
        assert installed_names(ctx.dbsession) == {"alpha", "beta"}


def test_uninstall_keeps_data_and_reinstall_reuses_it(env, catalog):
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
        ctx.dbsession.execute(text("INSERT INTO alpha_item (name, created_at, updated_at) "
                                   "VALUES ('mine', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    with env.ctx() as ctx:
        uninstall_addon(ctx, catalog, "alpha")
    with env.ctx() as ctx:
        assert installed_names(ctx.dbsession) == set()
        assert ctx.dbsession.get(Addon, "alpha").state == "uninstalled"
    assert "alpha_item" in tables(env)
    with env.ctx() as ctx:
        assert install_addons(ctx, catalog, ["alpha"]) == ["alpha"]
    with env.ctx() as ctx:
        names = ctx.dbsession.execute(text("SELECT name FROM alpha_item ORDER BY id")).scalars().all()
    assert names == ["default", "mine"]


def test_uninstall_with_drop_data_drops_tables(env, catalog):
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
    with env.ctx() as ctx:
        uninstall_addon(ctx, catalog, "alpha", drop_data=True)
    assert "alpha_item" not in tables(env)
    assert "alpha_alembic_version" not in tables(env)


def test_uninstall_of_an_addon_not_installed(env, catalog):
    with env.ctx() as ctx, pytest.raises(NotInstalled):
        uninstall_addon(ctx, catalog, "alpha")


def test_upgrade_runs_new_migrations_and_records_the_version(env, catalog, catalog_of):
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
    newer = catalog_of(alpha=FIXTURES + "alpha_v2")
    with env.ctx() as ctx:
        assert upgrade_addons(ctx, newer) == ["alpha"]
    with env.ctx() as ctx:
        assert installed_versions(ctx.dbsession) == {"alpha": "1.1.0"}
        assert current_revisions(ctx.dbsession.connection(), "alpha") == ("a002",)
    with env.engine.connect() as conn:
        assert "note" in {c["name"] for c in inspect(conn).get_columns("alpha_item")}


def test_upgrade_of_an_addon_not_installed_is_refused(env, catalog):
    with env.ctx() as ctx, pytest.raises(NotInstalled):
        upgrade_addons(ctx, catalog, ["alpha"])
    with env.ctx() as ctx, pytest.raises(UnknownAddon):
        upgrade_addons(ctx, catalog, ["nosuch"])


def test_a_package_removed_before_uninstall_does_not_block_the_others(env, catalog, catalog_of):
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha", "beta"])
    without_beta = catalog_of(FIXTURES + "alpha")  # beta's package was pip-uninstalled
    with env.ctx() as ctx:
        assert upgrade_addons(ctx, without_beta) == ["alpha"]
    with env.ctx() as ctx, pytest.raises(PackageMissing):
        uninstall_addon(ctx, without_beta, "beta", drop_data=True)
    with env.ctx() as ctx:
        uninstall_addon(ctx, without_beta, "beta")
    with env.ctx() as ctx:
        assert installed_names(ctx.dbsession) == {"alpha"}
