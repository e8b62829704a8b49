"""The Apps page: install and uninstall addons from the browser, with the CLI's rules."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from core.addons.installer import install_addons, installed_versions, uninstall_addon
from core.exceptions import KehuError
from core.i18n import _


def apps_list(request: Request) -> dict:
    runtime = request.registry["kehu.addons"]
    versions = installed_versions(request.dbsession)
    rows = []
    for spec in runtime.catalog:
        rows.append({
            "spec": spec,
            "installed": spec.name in versions,
            "installed_version": versions.get(spec.name),
            "dependents": sorted(runtime.catalog.dependents(spec.name) & set(versions)),
            "broken": runtime.broken.get(spec.name),
        })
    rows.sort(key=lambda r: (not r["installed"], r["spec"].category, r["spec"].name))
    return {
        "rows": rows,
        "invalid": sorted(runtime.catalog.invalid.items()),
        "page_title": _("Apps"),
        "can_install": request.has_permission("core.addon:install"),
    }


def app_install(request: Request) -> HTTPSeeOther:
    name = request.matchdict["name"]
    catalog = request.registry["kehu.addons"].catalog
    try:
        done = install_addons(request.ctx, catalog, [name])
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
    else:
        message = _("Installed: ${names}.", mapping={"names": ", ".join(done) or name})
        request.session.flash(request.localizer.translate(message), "success")
    return HTTPSeeOther(request.route_path("core.apps"))


def app_uninstall(request: Request) -> HTTPSeeOther:
    name = request.matchdict["name"]
    catalog = request.registry["kehu.addons"].catalog
    try:
        uninstall_addon(request.ctx, catalog, name)
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
    else:
        message = _("Uninstalled: ${name}. Its data is kept for a later reinstall.", mapping={"name": name})
        request.session.flash(request.localizer.translate(message), "success")
    return HTTPSeeOther(request.route_path("core.apps"))


def includeme(config: Configurator) -> None:
    config.add_route("core.apps", "/apps")
    config.add_route("core.apps.install", "/apps/{name}/install")
    config.add_route("core.apps.uninstall", "/apps/{name}/uninstall")
    config.add_view(apps_list, route_name="core.apps", renderer="core/apps.jinja2", permission="core.addon:read")
    config.add_view(app_install, route_name="core.apps.install", request_method="POST",
                    permission="core.addon:install")
    config.add_view(app_uninstall, route_name="core.apps.uninstall", request_method="POST",
                    permission="core.addon:install")
