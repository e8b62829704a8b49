"""Global search: every installed addon's ``kehu_search_providers`` the user may use."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request

from core.i18n import _

MAX_HITS_PER_PROVIDER = 10
MAX_QUERY_LENGTH = 100


def search(request: Request) -> dict:
    query = request.params.get("q", "").strip()[:MAX_QUERY_LENGTH]
    sections = []
    if query:
        providers = [p for batch in request.hooks.kehu_search_providers() for p in batch or ()]
        providers.sort(key=lambda p: (p.order, p.id))
        for provider in providers:
            if provider.permission and not request.has_permission(provider.permission):
                continue
            hits = provider.search(request, query, MAX_HITS_PER_PROVIDER)
            if hits:
                sections.append((provider, hits))
    return {"query": query, "sections": sections, "page_title": _("Search")}


def includeme(config: Configurator) -> None:
    config.add_route("core.search", "/search")
    config.add_view(search, route_name="core.search", renderer="core/search.jinja2",
                    permission="core.workbench:read")
