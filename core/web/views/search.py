"""Global search: every installed addon's ``kehu_search_providers`` the user may use, grouped
(the grouping, scope and masking live in ``core.search``)."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request

from core.i18n import _
from core.search import MAX_QUERY_LENGTH, clean_query, search_everything


def search(request: Request) -> dict:
    query = clean_query(request.params.get("q", ""))
    groups = search_everything(request, query)
    return {"query": query, "groups": groups, "max_length": MAX_QUERY_LENGTH, "page_title": _("Search")}


def includeme(config: Configurator) -> None:
    config.add_route("core.search", "/search")
    config.add_view(search, route_name="core.search", renderer="core/search.jinja2",
                    permission="core.workbench:read")
