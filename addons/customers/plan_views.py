"""Pages of follow-up plans: the customer page's plan box (move, done, cancel) and the quick
follow-up form (写跟进) that the customers list opens per row. Thin, like ``views``: the rules
live in ``plans`` and ``services``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request

from core.exceptions import KehuError
from core.i18n import _
from core.web.forms import blank_form, flash_done
from core.web.views.auth import safe_next

from . import TEMPLATES, plans, services
from .forms import FollowupForm, PlanMoveForm, to_utc

DEFAULT_ZONE = "Asia/Shanghai"


def plan_box(request: Request, customer: Any) -> dict[str, Any]:
    """The customer page's plans: open ones (with the buttons the user may use), closed ones, and
    each follow-up's plan for the timeline; three queries whatever their number."""
    ctx = request.ctx
    if not ctx.access.can("customers.plan:read"):
        return {"open": [], "closed": [], "changeable": set(), "local": {}, "by_followup": {}}
    rows = plans.customer_plans(ctx, customer.id)
    open_ = [plan for plan in rows if plan.state == plans.PLANNED]
    zone = ZoneInfo(getattr(request.user, "timezone", None) or DEFAULT_ZONE)
    return {"open": open_, "closed": [plan for plan in rows if plan.state != plans.PLANNED],
            "changeable": plans.may_change(ctx, [plan.id for plan in open_]),
            "local": {plan.id: plan.due_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") for plan in open_},
            "by_followup": {plan.followup_id: plan for plan in rows if plan.followup_id is not None}}


def plan_move(request: Request) -> Any:
    """改期: a new due time from the plan's own small form; refusals come back as a flash."""
    ctx = request.ctx
    plan = plans.get_plan(ctx, int(request.matchdict["id"]), "write")
    back = request.route_path("customers.detail", id=plan.customer_id) + "#plans"
    form = PlanMoveForm.for_request(request)
    if not form.validate():
        label = request.localizer.translate(form.due_at.label.text)
        for error in form.due_at.errors:
            request.session.flash(f"{label}: {request.localizer.translate(error)}", "danger")
        return HTTPSeeOther(back)
    due_at = to_utc(form.due_at.data, getattr(request.user, "timezone", None))
    if _apply(request, lambda: plans.move_plan(ctx, plan.id, due_at)):
        flash_done(request, _("The follow-up plan is moved."))
    return HTTPSeeOther(back)


def plan_done(request: Request) -> Any:
    ctx = request.ctx
    plan = plans.get_plan(ctx, int(request.matchdict["id"]), "write")
    if _apply(request, lambda: plans.complete_plan(ctx, plan.id)):
        flash_done(request, _("The follow-up plan is done."))
    return HTTPSeeOther(request.route_path("customers.detail", id=plan.customer_id) + "#plans")


def plan_cancel(request: Request) -> Any:
    ctx = request.ctx
    plan = plans.get_plan(ctx, int(request.matchdict["id"]), "write")
    if _apply(request, lambda: plans.cancel_plan(ctx, plan.id)):
        flash_done(request, _("The follow-up plan is cancelled."))
    return HTTPSeeOther(request.route_path("customers.detail", id=plan.customer_id) + "#plans")


def _apply(request: Request, change: Any) -> bool:
    try:
        with request.dbsession.begin_nested():
            change()
    except KehuError as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
        return False
    return True


# ---------------------------------------------------------------- quick add from the list


def followup_quick(request: Request) -> Any:
    """写跟进 from a list row: the small follow-up form, alone. An htmx request (the list's
    dialog) gets just the form; otherwise a page. It posts to ``customers.followup_add`` with
    ``next``, which brings the user back to the list."""
    customer = services.get_customer(request.ctx, int(request.matchdict["id"]))
    form = blank_form(FollowupForm, request)
    if request.headers.get("HX-Request"):
        request.override_renderer = TEMPLATES + "followup_quick_form.jinja2"
    return quick_context(request, customer, form, quick_next(request, request.GET.get("next")))


def quick_next(request: Request, target: str | None) -> str | None:
    """The list to return to after a quick follow-up; None when the form came from the customer page."""
    if not target:
        return None
    return safe_next(request, target[:2000])


def quick_context(request: Request, customer: Any, form: FollowupForm, back: str | None) -> dict[str, Any]:
    return {"customer": customer, "form": form, "next": back or request.route_path("customers.customers.list"),
            "page_title": customer.name}


def quick_page_with_errors(request: Request, customer: Any, form: FollowupForm, back: str) -> Any:
    """The quick form again, with its errors beside the fields (the list is not re-rendered)."""
    return render_to_response(TEMPLATES + "followup_quick.jinja2", quick_context(request, customer, form, back),
                              request=request)

