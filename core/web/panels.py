"""The 360° view: every installed addon's ``kehu_record_panels`` for one record.

An addon's detail page calls ``panels_for(request, record, lazy=True)`` and renders the result
with the ``record_panels`` macro, so orders, tickets and activities appear on the customer page
without the customers addon knowing those addons exist. Lazy panels cost the page nothing: the
macro renders each panel's frame, and htmx fetches its body from ``/panels/<panel id>?model=<table>
&id=<id>`` once the frame scrolls into view.

That route has only a table name and an id, so it must find the record again — in the reader's
scope, or a 404. A record of an ``Owned`` model is loaded with ``get_in_scope``; an addon whose
records are readable in some other way too (公海 customers have no owner) registers its own
loader: ``config.add_record_loader("customers_customer", load_customer)``. A table with neither
answers 404: a panel never shows a record its addon has not said how to guard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response

from core.access.exceptions import RecordNotFound
from core.access.scopes import get_in_scope
from core.contributions import RecordPanel
from core.db.base import Base

#: ``loader(ctx, record_id) -> record``, raising RecordNotFound outside the reader's scope.
RecordLoader = Callable[[Any, int], Any]
LOADERS = "kehu.record_loaders"


def panels_for(request: Request, record: Any, *, lazy: bool = False) -> list[tuple[RecordPanel, dict[str, Any] | None]]:
    """The panels the user may see, in order, each with its template context — or, ``lazy``,
    with ``None``: the macro then renders a frame that loads the panel by itself."""
    panels = [p for p in _declared(request, record) if p.permission is None or request.has_permission(p.permission)]
    panels.sort(key=lambda p: (p.order, p.id))
    if lazy:
        return [(p, None) for p in panels]
    return [(p, _context(request, p, record)) for p in panels]


def panel_url(request: Request, panel: RecordPanel, record: Any) -> str:
    """Where a lazy panel's frame fetches its body."""
    return str(request.route_path("core.panel", panel_id=panel.id,
                                  _query={"model": record.__tablename__, "id": record.id}))


def render_panel(request: Request) -> Response:
    """``/panels/<panel id>?model=<table>&id=<id>``: one panel's body. 404 for a record outside
    the reader's scope (or a table no loader guards) and for a panel not offered on it; 403
    when the reader lacks the panel's permission."""
    if request.user is None:
        raise HTTPForbidden()  # the forbidden view sends anonymous visitors to /login?next=…
    table, raw_id = request.GET.get("model", ""), request.GET.get("id", "")
    if not raw_id.isdigit() or len(raw_id) > 18:
        raise HTTPNotFound()
    record = load_record(request, table, int(raw_id))
    panel = next((p for p in _declared(request, record) if p.id == request.matchdict["panel_id"]), None)
    if panel is None:
        raise HTTPNotFound()
    if panel.permission is not None and not request.has_permission(panel.permission):
        raise HTTPForbidden()
    values = _context(request, panel, record)
    return render_to_response("core/panels/one.jinja2", {"panel": panel, "values": values, "record": record},
                              request=request)


def load_record(request: Request, table: str, record_id: int) -> Any:
    """The record of ``table`` with ``record_id`` as its addon's loader (or the record scope of an
    ``Owned`` model) gives it to the reader; RecordNotFound (404) otherwise."""
    loader = request.registry.get(LOADERS, {}).get(table)
    if loader is not None:
        return loader(request.ctx, record_id)
    model = model_for_table(table)
    if model is None or not isinstance(getattr(model, "access_key", None), str):
        raise RecordNotFound()
    return get_in_scope(request.ctx, model, record_id, "read")


def model_for_table(table: str) -> type | None:
    """The mapped class whose ``__tablename__`` is ``table``, among every loaded model."""
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_  # type: ignore[no-any-return]
    return None


def add_record_loader(config: Configurator, table: str, loader: RecordLoader) -> None:
    """Directive ``config.add_record_loader(table, loader)``: how the panel route finds a record of
    ``table`` in the reader's scope (see the module docstring). One loader per table."""

    def register() -> None:
        config.registry.setdefault(LOADERS, {})[table] = loader

    config.action(("kehu.record_loader", table), register)


def _declared(request: Request, record: Any) -> list[RecordPanel]:
    seen: set[str] = set()
    panels: list[RecordPanel] = []
    for batch in request.hooks.kehu_record_panels(request=request, record=record):
        for panel in batch or ():
            if panel.id in seen:
                raise ConfigurationError(f"record panel id {panel.id!r} is declared twice")
            seen.add(panel.id)
            panels.append(panel)
    return panels


def _context(request: Request, panel: RecordPanel, record: Any) -> dict[str, Any]:
    return dict(panel.context(request, record)) if panel.context else {}


def includeme(config: Configurator) -> None:
    config.add_directive("add_record_loader", add_record_loader)
    config.add_route("core.panel", "/panels/{panel_id}")
    config.add_view(render_panel, route_name="core.panel", request_method="GET")
