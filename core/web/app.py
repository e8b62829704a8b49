"""The WSGI application factory. It reads like a table of contents: core first, then addons in
dependency order (STYLE habit 3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router
from sqlalchemy import Engine

from core.addons.catalog import AddonCatalog
from core.addons.runtime import AddonRuntime
from core.settings import load_settings


def main(global_config: Mapping[str, Any] | None, **settings: Any) -> Router:
    """Entry point named by ``config/*.ini`` (``use = egg:kehu``)."""
    return make_app(settings)


def make_app(
    settings: Mapping[str, Any] | None = None,
    *,
    catalog: AddonCatalog | None = None,
    engine: Engine | None = None,
) -> Router:
    """Build the app. Tests pass their own ``catalog`` (fixture addons) and ``engine``."""
    settings = load_settings(settings)
    runtime = AddonRuntime(catalog if catalog is not None else AddonCatalog.discover())
    with Configurator(settings=settings) as config:
        config.registry["kehu.addons"] = runtime
        config.registry["kehu.engine"] = engine
        config.include("core.web.database")       # engine, request.dbsession, one transaction per request
        config.include("core.web.i18n")           # locale negotiation, translation dirs
        config.include("core.web.security")       # sessions, CSRF, login identity, permissions
        config.include("core.web.headers")        # CSP, no framing, HSTS over https, no-store
        config.include("core.web.rendering")      # Jinja2, filters, static files, vendored assets
        config.include("core.web.addons")         # installed-state per request, route gating, hooks
        config.include("core.web.views")          # login, workbench, apps, search, preferences, errors
        config.include("core.api")  # /api/v1: resources, OpenAPI, /api/docs
        config.include("core.imports")  # config.add_import; /imports: upload, mapping, preview, progress, report
        config.include("core.lists.views")  # config.add_list_page: list pages by declaration
        for spec in runtime.order:                 # every loadable addon, dependencies first
            if spec.translation_dir:
                config.add_translation_dirs(str(spec.translation_dir))
            config.include(spec.package)
        config.include("core.web.routes_check")   # every route belongs to a known addon
    return config.make_wsgi_app()
