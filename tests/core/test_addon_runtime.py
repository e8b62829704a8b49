"""A running app follows installs made elsewhere; hooks answer only for installed addons."""

import pytest

from core.addons.installer import install_addons, uninstall_addon
from core.contributions import RecordChange
from core.plugins import HookRelay, make_plugin_manager
from tests.fixtures.addons.alpha import hooks as alpha_hooks

FIXTURES = "tests.fixtures.addons."


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURES + "alpha", FIXTURES + "beta")


def test_second_app_instance_sees_install_and_uninstall_without_restart(make_kehu_app, catalog, cli_env):
    first = make_kehu_app(catalog=catalog)
    second = make_kehu_app(catalog=catalog)  # another worker, or another machine
    first.login()
    second.login()
    second.get("/alpha", status=404)
    assert 'href="/alpha"' not in second.get("/").text

    first.post_form("/apps/alpha/install", status=303)
    assert second.get("/alpha").status_int == 200
    assert 'href="/alpha"' in second.get("/").text

    env = cli_env(catalog)  # the CLI, a third process
    with env.ctx() as ctx:
        uninstall_addon(ctx, catalog, "alpha")
    first.get("/alpha", status=404)
    second.get("/alpha", status=404)
    assert 'href="/alpha"' not in second.get("/").text


def test_hook_relay_calls_only_installed_addons(catalog):
    pm = make_plugin_manager(catalog.install_order(["beta"]))
    nothing = HookRelay(pm, [])
    only_alpha = HookRelay(pm, ["alpha"])
    both = HookRelay(pm, ["alpha", "beta"])

    def ids(relay):
        return {item.id for batch in relay.kehu_menus() for item in batch}

    assert ids(nothing) == {"core.home", "core.settings", "core.apps", "core.profile", "core.users",
                            "core.departments", "core.roles", "core.custom_fields", "core.audit", "core.jobs"}
    assert ids(only_alpha) - ids(nothing) == {"alpha.list"}
    assert ids(both) - ids(nothing) == {"alpha.list", "beta.hello"}


def test_record_changed_reaches_installed_addons_only(kehu_db, cli_env, catalog):
    from core.users.services import create_user

    env = cli_env(catalog)
    alpha_hooks.CALLS.clear()
    with env.ctx() as ctx:
        create_user(ctx, "before-install", "long-enough-password")
    assert alpha_hooks.CALLS == []
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["alpha"])
    with env.ctx() as ctx:
        user = create_user(ctx, "after-install", "long-enough-password")
    assert len(alpha_hooks.CALLS) == 1
    change = alpha_hooks.CALLS[0]
    assert isinstance(change, RecordChange)
    assert (change.action, change.model, change.record_id) == ("created", "core_user", user.id)


def test_unknown_hook_name_is_an_error(catalog):
    relay = HookRelay(make_plugin_manager([]), [])
    with pytest.raises(AttributeError):
        relay.kehu_no_such_hook  # noqa: B018


def test_a_route_not_named_after_its_addon_fails_at_start_up(tmp_path):
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationExecutionError

    from core.addons.catalog import AddonCatalog
    from core.addons.runtime import AddonRuntime

    config = Configurator(settings={})
    config.registry["kehu.addons"] = AddonRuntime(AddonCatalog([]))
    config.add_route("stray", "/stray")
    config.include("core.web.routes_check")
    with pytest.raises(ConfigurationExecutionError, match="stray"):
        config.commit()


def test_duplicate_menu_ids_fail(catalog):
    from pyramid.exceptions import ConfigurationError

    from core.contributions import MenuItem
    from core.web.menus import collect_menu_items

    item = MenuItem(id="x.y", title="X")
    with pytest.raises(ConfigurationError, match=r"x\.y"):
        collect_menu_items([[item], [item]])
