"""查重 pages: the lookup page, the fragment the forms ask while the user types, 申请转移, and the
admin's merge with its preview. Thin: parse, call ``duplicates`` / ``merge``, render."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from core.access.exceptions import PermissionDenied, RecordNotFound
from core.exceptions import KehuError
from core.i18n import _
from core.web.forms import flash_done

from . import duplicates, merge
from .forms import DEAL_CHOICES

QUERY_FIELDS = ("name", "mobile", "email", "credit_code")


def _query(request: Request) -> tuple[duplicates.DuplicateQuery, dict[str, str]]:
    typed = {field: request.params.get(field, "").strip()[:200] for field in QUERY_FIELDS}
    exclude = request.params.get("exclude", "")
    query = duplicates.DuplicateQuery(**{k: v or None for k, v in typed.items()},
                                      exclude_id=int(exclude) if exclude.isdigit() else None)
    return query, typed


def duplicates_page(request: Request) -> dict[str, Any]:
    """查重: anyone with read access searches the whole installation; masked outside the scope."""
    query, typed = _query(request)
    hits = duplicates.find_duplicates(request.ctx, query)
    return {"hits": hits, **typed, "searched": not query.is_empty() or any(typed.values()),
            "me": request.ctx.user.id if request.ctx.user else None,
            "may_merge": request.ctx.access.can("customers.customer:merge"),
            "back": request.path_qs, "page_title": request.localizer.translate(_("Duplicate check"))}


def duplicates_check(request: Request) -> dict[str, Any]:
    """The htmx fragment under a form's name / credit code / mobile / e-mail field: the hits
    before saving, or nothing."""
    query, _typed = _query(request)
    hits = duplicates.find_duplicates(request.ctx, query)
    return {"hits": hits, "me": request.ctx.user.id if request.ctx.user else None, "may_merge": False,
            "back": request.route_path("customers.duplicates", _query={k: v for k, v in _typed.items() if v})}


def handover_request(request: Request) -> Any:
    """申请转移 (POST): notify the owner, then back to where the button was."""
    back = request.POST.get("back", "")
    if not back.startswith("/customers/duplicates"):
        back = request.route_path("customers.duplicates")
    try:
        with request.dbsession.begin_nested():
            duplicates.request_handover(request.ctx, int(request.matchdict["id"]))
    except KehuError as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
        return HTTPSeeOther(back)
    flash_done(request, _("The owner has been asked to hand the customer over."))
    return HTTPSeeOther(back)


def merge_page(request: Request) -> Any:
    """Pick two customers, see what the target keeps and takes, then merge (POST)."""
    ctx = request.ctx
    source, target = (request.params.get(k, "").strip() for k in ("source", "target"))
    plan, error = None, None
    if source.isdigit() and target.isdigit():
        try:
            if request.method == "POST":
                with request.dbsession.begin_nested():
                    merged = merge.merge_customers(ctx, int(source), int(target))
                flash_done(request, _("The customers are merged."))
                return HTTPSeeOther(request.route_path("customers.detail", id=merged.id))
            plan = merge.plan_merge(ctx, int(source), int(target))
        except KehuError as refused:
            if isinstance(refused, PermissionDenied | RecordNotFound):
                raise
            error = request.localizer.translate(refused.translation_string)
    return {"plan": plan, "source": source, "target": target, "error": error, "deal_labels": dict(DEAL_CHOICES),
            "page_title": request.localizer.translate(_("Merge customers"))}
