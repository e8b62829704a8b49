"""Start-up checks that fail loudly instead of misbehaving later (STYLE habit 10):
every route is owned by the core or a known addon; menu ids, permissions and periodic jobs
are unique and well-formed."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from core.addons.runtime import AddonRuntime
from core.jobs.periodic import collect_periodic_jobs
from core.permissions import collect_permissions
from core.web.addons import route_owner
from core.web.menus import collect_menu_items


def _check(config: Configurator) -> None:
    runtime: AddonRuntime = config.registry["kehu.addons"]
    known = {spec.name for spec in runtime.order} | {"core"}
    mapper = config.get_routes_mapper()
    for route in mapper.get_routes():
        if route_owner(route.name) not in known:
            raise ConfigurationError(
                f"route {route.name!r} must be named after its addon: '<addon>.<name>' or 'api.<addon>.<name>'"
            )
    hook = runtime.plugin_manager.hook
    collect_menu_items(hook.kehu_menus())
    collect_permissions(hook.kehu_permissions())
    collect_periodic_jobs(hook.kehu_periodic_jobs())


def includeme(config: Configurator) -> None:
    config.action(None, _check, args=(config,), order=999999)
