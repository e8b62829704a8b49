"""The 360° view: every installed addon's ``kehu_record_panels`` for one record.

An addon's detail page calls ``panels_for(request, record)`` and renders the result with the
``record_panels`` macro, so orders, tickets and activities appear on the customer page without
the customers addon knowing those addons exist.
"""

from __future__ import annotations

from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.request import Request

from core.contributions import RecordPanel


def panels_for(request: Request, record: Any) -> list[tuple[RecordPanel, dict[str, Any]]]:
    """The panels the user may see, in order, each with its template context."""
    seen: set[str] = set()
    panels: list[RecordPanel] = []
    for batch in request.hooks.kehu_record_panels(request=request, record=record):
        for panel in batch or ():
            if panel.id in seen:
                raise ConfigurationError(f"record panel id {panel.id!r} is declared twice")
            seen.add(panel.id)
            if panel.permission is None or request.has_permission(panel.permission):
                panels.append(panel)
    panels.sort(key=lambda p: (p.order, p.id))
    return [(p, dict(p.context(request, record)) if p.context else {}) for p in panels]
