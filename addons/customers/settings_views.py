"""The administrator's page of the customer lists (sources, levels, industries) and the region
fragment the customer form's cascading selects load."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from core.exceptions import KehuError
from core.i18n import _
from core.web.forms import flash_done

from . import choices, regions


def choices_admin(request: Request) -> Any:
    """GET: one list (``kind``) with its entries; POST: one change (add, rename, activate,
    deactivate, up, down), then back to the list with a message."""
    ctx = request.ctx
    ctx.access.require(choices.PERMISSION)
    params = request.POST if request.method == "POST" else request.GET
    kind = params.get("kind", "source")
    kind = kind if kind in choices.KINDS else "source"
    if request.method == "POST":
        _apply(request, kind, request.POST)
        return HTTPSeeOther(request.route_path("customers.choices", _query={"kind": kind}))
    return {"kind": kind, "kinds": choices.KINDS, "entries": choices.choices(ctx, kind),
            "value_limit": choices.VALUE_LIMITS[kind], "label_limit": choices.LABEL_LIMIT,
            "page_title": request.localizer.translate(_("Customer lists"))}


def _apply(request: Request, kind: str, post: Any) -> None:
    ctx = request.ctx
    action = post.get("action", "")
    raw_id = post.get("id", "")
    choice_id = int(raw_id) if raw_id.isdigit() else 0
    try:
        with request.dbsession.begin_nested():
            if action == "add":
                choices.add_choice(ctx, kind, post.get("value", ""), post.get("label", ""))
            elif action == "rename":
                choices.update_choice(ctx, choice_id, label=post.get("label", ""))
            elif action in ("activate", "deactivate"):
                choices.update_choice(ctx, choice_id, active=action == "activate")
            elif action in ("up", "down"):
                choices.move_choice(ctx, choice_id, -1 if action == "up" else 1)
            else:
                return
    except KehuError as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
        return
    flash_done(request, _("Saved."))


def region_options(request: Request) -> dict[str, Any]:
    """``<option>``s of the level below: the cities of ``province`` (``level=city``) or the
    districts of ``province``/``city`` (``level=district``), for htmx to swap into the select."""
    params = request.GET
    level = params.get("level", "city")
    if level == "district":
        found = regions.districts(params.get("province"), params.get("city"))
    else:
        found = regions.cities(params.get("province"))
    return {"regions": found, "selected": params.get("selected", "")}
