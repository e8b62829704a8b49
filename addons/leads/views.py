"""Thin pages of a lead: new, edit, the lead page (facts, follow-ups, pool history), claim,
return, and the conversion. They read the request, call a service with ``request.ctx`` and
render; the rules live in ``services``, ``pool``, ``transfer`` and ``conversion``."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from sqlalchemy import select

from addons.customers import choices
from addons.customers import exceptions as customer_errors
from addons.customers.forms import FOLLOWUP_KINDS, FollowupForm, to_utc
from addons.customers.plan_views import quick_next
from addons.customers.services import owner_label
from core.customfields.forms import custom_data
from core.customfields.services import set_values, shown_values
from core.exceptions import KehuError
from core.i18n import _
from core.web.forms import blank_form, flash_done, save_form
from core.web.panels import panels_for

from . import conversion, duplicates, exceptions, pool, services, tags
from .forms import ConvertForm, ReturnForm, lead_form
from .lists import STATUS_LABELS
from .models import Lead, LeadMove, LeadPool

LEAD_ERRORS = {
    exceptions.LeadNameRequired: "name",
    exceptions.LeadFieldTooLong: "name",
    exceptions.BudgetInvalid: "budget",
    exceptions.StatusUnknown: "status",
    exceptions.NurtureDaysInvalid: "nurture_days",
    exceptions.TooManyLeadTags: "tag_names",
    customer_errors.TagNameInvalid: "tag_names",
    customer_errors.MobileInvalid: "mobile",
    customer_errors.SourceUnavailable: "source",
    customer_errors.LevelUnavailable: "level",
    customer_errors.IndustryUnavailable: "industry",
    customer_errors.UnknownChoice: "source",
}
#: The customers' quick follow-up page (the form alone in the list's dialog), for a lead.
QUICK_PAGE = "addons.customers:templates/customers/followup_quick.jinja2"
QUICK_FORM = "addons.customers:templates/customers/followup_quick_form.jinja2"
MOVES = {"claimed": _("Claimed from the pool"), "returned": _("Returned to the pool"),
         "auto_returned": _("Returned to the pool automatically"), "assigned": _("Assigned")}
#: 查重 matches that mean the same company (a similar name may be another one): linked by default.
SAME_COMPANY = frozenset({"name", "credit_code", "mobile", "email"})
#: Where a new lead goes: to its author, to whom the assignment rules pick, or into a pool.
DESTINATIONS = (("mine", _("Myself")), ("rules", _("By the assignment rules")), ("pool", _("Into the lead pool")))


# ---------------------------------------------------------------- new, edit


def lead_new(request: Request) -> Any:
    ctx = request.ctx
    form = lead_form(request)
    pools = pool.pools_for(ctx)
    destination = request.POST.get("destination", "mine") if request.method == "POST" else "mine"
    if destination not in dict(DESTINATIONS) or (destination != "mine" and not pools):
        destination = "mine"

    where = {"mine": {}, "rules": {"assign": True}, "pool": {"pool_id": pools[0].id if pools else None}}
    saved = save_form(request, form, lambda: services.create_lead(
        ctx, **form.values(), custom=custom_data(form), **where[destination]), LEAD_ERRORS)
    if saved is not None:
        flash_done(request, _("Lead created."))
        return HTTPSeeOther(request.route_path("leads.detail", id=saved.id))
    return {"form": form, "lead": None, "destinations": DESTINATIONS if pools else (), "destination": destination,
            "page_title": request.localizer.translate(_("New lead"))}


def lead_edit(request: Request) -> Any:
    ctx = request.ctx
    lead = services.get_lead(ctx, int(request.matchdict["id"]), "write")
    if lead.status == "converted":  # read-only: its customer carries on
        request.session.flash(request.localizer.translate(exceptions.LeadConverted(name=lead.name)
                                                          .translation_string), "warning")
        return HTTPSeeOther(request.route_path("leads.detail", id=lead.id))
    form = lead_form(request, lead)

    def update() -> Lead:
        saved = services.update_lead(ctx, lead.id, **form.values())
        set_values(ctx, saved, custom_data(form))
        return saved

    saved = save_form(request, form, update, LEAD_ERRORS)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("leads.detail", id=lead.id))
    return {"form": form, "lead": lead, "destinations": (), "destination": None, "page_title": lead.name}


# ---------------------------------------------------------------- the lead page


def load_lead(ctx: Any, lead_id: int) -> Lead:
    """The record loader of ``leads_lead``: a lead in scope or in one of the reader's pools."""
    return services.get_lead(ctx, lead_id)


def lead_detail(request: Request) -> dict[str, Any]:
    lead = services.get_lead(request.ctx, int(request.matchdict["id"]))
    return _detail(request, lead, FollowupForm.for_request(request))


def _detail(request: Request, lead: Lead, form: FollowupForm, return_form: ReturnForm | None = None
            ) -> dict[str, Any]:
    ctx = request.ctx
    access = ctx.access
    converted = lead.status == "converted"
    may_write = access.can("leads.lead:write") and lead.owner_id is not None and not converted
    labels = {kind: choices.labels(ctx, kind) for kind in choices.KINDS}
    return {
        "lead": lead, "owner": owner_label(ctx, lead.owner_id) if lead.owner_id else None,
        "pool": ctx.dbsession.get(LeadPool, lead.pool_id) if lead.pool_id else None,
        "status_label": STATUS_LABELS.get(lead.status, lead.status),
        "labels": {kind: labels[kind].get(getattr(lead, kind)) or getattr(lead, kind) for kind in choices.KINDS},
        "custom": shown_values(ctx, lead), "tags": tags.tag_names(ctx, lead.id),
        "followups": services.list_followups(ctx, lead.id) if access.can("leads.followup:read") else [],
        "form": form, "kinds": dict(FOLLOWUP_KINDS), "moves": _moves(request, lead),
        "may_follow": access.can("leads.followup:create") and not converted,
        "may_write": may_write,
        "may_claim": lead.owner_id is None and access.can("leads.pool:claim"),
        "may_return": may_write,
        "may_convert": may_write and lead.status == "qualified",
        "return_form": return_form if return_form is not None else _return_form(request, lead, blank=True),
        "panels": panels_for(request, lead, lazy=True), "page_title": lead.name,
    }



def _moves(request: Request, lead: Lead) -> list[dict[str, Any]]:
    """The lead's moves in and out of pools, newest first, with who acted and why."""
    ctx = request.ctx
    moves = ctx.dbsession.scalars(select(LeadMove).where(LeadMove.lead_id == lead.id)
                                  .order_by(LeadMove.at.desc(), LeadMove.id.desc()).limit(50)).all()
    if not moves:
        return []
    names = dict(ctx.dbsession.execute(select(LeadPool.id, LeadPool.name)).all())
    return [{"move": move, "label": MOVES.get(move.action, move.action), "pool": names.get(move.pool_id, "—"),
             "user": owner_label(ctx, move.user_id or move.previous_owner_id)} for move in moves]


def _return_form(request: Request, lead: Lead, blank: bool = False) -> ReturnForm:
    form = blank_form(ReturnForm, request) if blank else ReturnForm.for_request(request)
    form.pool_id.choices = [(p.id, p.name) for p in pool.pools_for(request.ctx)]
    if blank and lead.pool_id in {value for value, _label in form.pool_id.choices}:
        form.pool_id.data = lead.pool_id
    return form


# ---------------------------------------------------------------- follow-ups


def followup_add(request: Request) -> Any:
    """The quick-add's POST: back to the lead page (or the list it came from) on success, the
    form with its errors otherwise."""
    ctx = request.ctx
    lead = services.get_lead(ctx, int(request.matchdict["id"]))
    form = FollowupForm.for_request(request)
    back = quick_next(request, request.POST.get("next"))
    timezone = getattr(request.user, "timezone", None)
    saved = save_form(request, form, lambda: services.add_followup(
        ctx, lead.id, kind=form.kind.data, content=form.content.data,
        next_at=to_utc(form.next_at.data, timezone), next_step=form.next_step.data),
        {customer_errors.ContentRequired: "content", exceptions.LeadFieldTooLong: "content"})
    if saved is not None:
        flash_done(request, _("Follow-up saved."))
        return HTTPSeeOther(back or request.route_path("leads.detail", id=lead.id) + "#followups")
    if back:
        return render_to_response(QUICK_PAGE, _quick(request, lead, form, back),
                                  request=request)
    return _detail(request, lead, form)


def followup_quick(request: Request) -> Any:
    """写跟进 from a list row: the customers' small form, for a lead (htmx: just the form)."""
    lead = services.get_lead(request.ctx, int(request.matchdict["id"]))
    if request.headers.get("HX-Request"):
        request.override_renderer = QUICK_FORM
    return _quick(request, lead, blank_form(FollowupForm, request), quick_next(request, request.GET.get("next")))


def _quick(request: Request, lead: Lead, form: FollowupForm, back: str | None) -> dict[str, Any]:
    return {"record": lead, "form": form, "add_route": "leads.followup_add", "detail_route": "leads.detail",
            "next": back or request.route_path("leads.leads.list"), "page_title": lead.name}


# ---------------------------------------------------------------- pool


def lead_claim(request: Request) -> Any:
    """领取 from the lead page; a refusal (taken, a limit) is shown on the pool list."""
    lead_id = int(request.matchdict["id"])
    try:
        with request.dbsession.begin_nested():
            pool.claim_leads(request.ctx, [lead_id])
    except KehuError as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
        return HTTPSeeOther(request.route_path("leads.pool.list"))
    flash_done(request, _("The lead is yours."))
    return HTTPSeeOther(request.route_path("leads.detail", id=lead_id))


def lead_return(request: Request) -> Any:
    """退回 with a reason: back to the lead page (now a pool lead) or the page with the errors."""
    ctx = request.ctx
    lead = services.get_lead(ctx, int(request.matchdict["id"]), "write")
    form = _return_form(request, lead)
    saved = save_form(request, form, lambda: pool.return_lead(ctx, lead.id, form.pool_id.data, form.reason.data),
                      {exceptions.LeadReturnReasonRequired: "reason", exceptions.LeadPoolUnavailable: "pool_id",
                       exceptions.LeadInPool: "pool_id", exceptions.LeadConverted: "pool_id"})
    if saved is not None:
        flash_done(request, _("The lead is back in the pool."))
        return HTTPSeeOther(request.route_path("leads.detail", id=lead.id))
    return _detail(request, lead, blank_form(FollowupForm, request), return_form=form)


# ---------------------------------------------------------------- conversion


def lead_convert(request: Request) -> Any:
    """转化 (L4): the customer it becomes — new, or one of the 查重 candidates the user may edit —
    the contact it brings, and the other addons' steps (an opportunity …). One POST does it all
    or nothing."""
    ctx = request.ctx
    lead = services.get_lead(ctx, int(request.matchdict["id"]), "write")
    if lead.status == "converted":
        return HTTPSeeOther(request.route_path("leads.detail", id=lead.id))
    form = ConvertForm.for_request(request)
    candidates = [hit for hit in duplicates.check_lead(ctx, name=lead.name, mobile=lead.mobile, email=lead.email)
                  if hit.customer_id is not None]
    mine = [hit for hit in candidates if hit.in_scope]
    form.customer.choices = [("new", _("Create a new customer")), *((str(hit.customer_id), hit.name) for hit in mine)]
    same = [hit for hit in mine if hit.match in SAME_COMPANY]
    if request.method != "POST" and same:
        form.customer.data = str(same[0].customer_id)  # the same company: link, do not duplicate
    steps = conversion.steps_for(ctx, lead)
    error = None
    if request.method == "POST" and form.validate():
        chosen = form.customer.data
        try:
            done = conversion.convert_lead(
                ctx, lead.id, customer_id=int(chosen) if chosen and chosen.isdigit() else None,
                options=conversion.posted_options(steps, request.POST))
        except KehuError as refused:
            error = refused.translation_string
        else:
            flash_done(request, _("The lead is converted."))
            return HTTPSeeOther(request.route_path("customers.detail", id=done.customer_id))
    return {"lead": lead, "form": form, "candidates": candidates, "steps": steps, "error": error,
            "reasons": {str(hit.customer_id): hit.reason for hit in mine},
            "may_convert": lead.status == "qualified", "status_label": STATUS_LABELS.get(lead.status, lead.status),
            "posted": request.POST if request.method == "POST" else None,
            "page_title": request.localizer.translate(_("Convert a lead"))}

