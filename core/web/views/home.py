"""The workbench: every installed addon's dashboard widgets, in order, that the user may see."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request

from core.i18n import _


def workbench(request: Request) -> dict:
    widgets = [w for batch in request.hooks.kehu_dashboard_widgets(request=request) for w in batch or ()]
    widgets = [w for w in widgets if w.permission is None or request.has_permission(w.permission)]
    widgets.sort(key=lambda w: (w.order, w.id))
    rendered = [(w, dict(w.context(request)) if w.context else {}) for w in widgets]
    return {"widgets": rendered, "charts": any(w.charts for w in widgets), "page_title": _("Workbench")}


def includeme(config: Configurator) -> None:
    config.add_route("core.home", "/")
    config.add_view(workbench, route_name="core.home", renderer="core/home.jinja2",
                    permission="core.workbench:read")
