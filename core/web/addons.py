"""Per request: which addons are installed, their hooks, and 404 for routes of the others."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from core.addons.exceptions import DatabaseNotInitialised
from core.addons.runtime import AddonRuntime, InstalledState
from core.context import Ctx
from core.models import RegistryVersion
from core.plugins import HookRelay


def route_owner(route_name: str) -> str:
    """Route names are dotted and start with the owning addon (``customers.list``), or with
    ``api.`` then the addon (``api.customers.get``). Static views (``__…``) belong to the core."""
    if route_name.startswith("__"):
        return "core"
    parts = route_name.split(".")
    if parts[0] == "api" and len(parts) > 1:
        return parts[1]
    return parts[0]


def _addons(request: Request) -> InstalledState:
    runtime: AddonRuntime = request.registry["kehu.addons"]
    try:
        return runtime.sync(request.dbsession)
    except SQLAlchemyError as exc:
        with request.registry["kehu.engine"].connect() as connection:
            if not inspect(connection).has_table(RegistryVersion.__tablename__):
                raise DatabaseNotInitialised() from exc
        raise


def _hooks(request: Request) -> HookRelay:
    return request.addons.hooks


def _ctx(request: Request) -> Ctx:
    from core.web.security import client_ip

    return Ctx(
        dbsession=request.dbsession,
        hooks=request.hooks,
        user=request.user,
        settings=request.registry.settings,
        locale=request.locale_name,
        ip=client_ip(request),
        cache=request.addons.cache,
    )


def refuse_routes_of_uninstalled_addons(event: ContextFound) -> None:
    request = event.request
    route = request.matched_route
    if route is None:
        return
    owner = route_owner(route.name)
    if route.name.startswith("__"):  # static files need no database
        return
    if not request.addons.is_installed(owner):  # one primary-key read, for every page
        raise HTTPNotFound()


def includeme(config: Configurator) -> None:
    config.add_request_method(_addons, "addons", reify=True)
    config.add_request_method(_hooks, "hooks", reify=True)
    config.add_request_method(_ctx, "ctx", reify=True)
    config.add_subscriber(refuse_routes_of_uninstalled_addons, ContextFound)
