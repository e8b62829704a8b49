"""A background export's page: a progress bar htmx refreshes every second
(``/exports/<id>/progress``, a fragment that stops asking once the export ended), then the
download link. Only the user who asked for the export sees it; anyone else gets 404. The
fragment answers 286 once the session has ended, which tells htmx to stop polling."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response

from core.i18n import _
from core.lists.export import EXPORT_PATH, export_progress
from core.lists.registry import list_pages


def _progress(request: Request) -> dict[str, Any]:
    if request.user is None:
        raise HTTPForbidden()  # the forbidden view sends anonymous visitors to /login?next=…
    progress = export_progress(request.ctx, int(request.matchdict["id"]))
    page = list_pages(request.registry).get(progress.run.list_key)
    return {
        "progress": progress,
        "title": progress.run.params.get("title", ""),
        "list_url": request.route_path(page.route("list")) if page is not None else None,
    }


def export_page(request: Request) -> dict[str, Any]:
    values = _progress(request)
    return {**values, "page_title": _("Export: ${title}", mapping={"title": values["title"]})}


def export_fragment(request: Request) -> dict[str, Any] | Response:
    if request.user is None:  # the session ended: htmx stops polling on 286 (not a sign-in page in the card)
        return Response(status="286 Stop Polling")
    return _progress(request)


def includeme(config: Configurator) -> None:
    config.add_route("core.exports.show", EXPORT_PATH.replace("{id}", "{id:\\d{1,9}}"))
    config.add_route("core.exports.progress", EXPORT_PATH.replace("{id}", "{id:\\d{1,9}}") + "/progress")
    config.add_view(export_page, route_name="core.exports.show", renderer="core/exports/show.jinja2",
                    request_method="GET")
    config.add_view(export_fragment, route_name="core.exports.progress", renderer="core/exports/progress.jinja2",
                    request_method="GET")
