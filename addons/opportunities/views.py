"""Thin pages of an opportunity: new (for a customer picked first), edit, and the opportunity
page (facts, stage with its history and time in stage, the move form, collaborators). The
rules live in ``services``; the board and the stage move in ``board``."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import select

from addons.customers import services as customers
from addons.customers.exceptions import UnknownChoice
from addons.customers.lists import format_cny
from addons.customers.models import Customer
from addons.customers.search import customer_search_condition
from core.access.members import members_of
from core.access.scopes import scope_condition
from core.customfields.forms import custom_data
from core.customfields.services import set_values, shown_values
from core.i18n import _
from core.web.forms import flash_done, save_form
from core.web.panels import panels_for

from . import exceptions, pipelines, scoring, services
from .forms import opportunity_form
from .lines import lines_for
from .lists import _STATUS_LABELS
from .models import Opportunity, Pipeline

ERRORS = {
    exceptions.TitleRequired: "title",
    exceptions.AmountInvalid: "amount",
    exceptions.CloseDateInvalid: "expected_close",
    exceptions.ProbabilityInvalid: "probability",
    exceptions.StageNotInPipeline: "stage_id",
    exceptions.PipelineUnavailable: "stage_id",
    exceptions.OpportunityFieldTooLong: "title",
    UnknownChoice: "collaborators",
}
PICKER_LIMIT = 20


def opportunity_new(request: Request) -> Any:
    """商机 for a customer: ``?customer_id=`` (from the customer page), else a customer picker."""
    ctx = request.ctx
    raw = request.params.get("customer_id", "")
    if not raw.isdigit():
        return _picker(request)
    customer = customers.get_customer(ctx, int(raw))
    form = opportunity_form(request)

    def create() -> Opportunity:
        stage = ctx.dbsession.get(pipelines.Stage, form.stage_id.data) if form.stage_id.data else None
        opportunity = services.create_opportunity(
            ctx, customer_id=customer.id, pipeline_id=stage.pipeline_id if stage else None,
            stage_id=stage.id if stage else None, custom=custom_data(form), **form.values())
        return services.set_collaborators(ctx, opportunity.id, form.collaborators.data or [])

    saved = save_form(request, form, create, ERRORS)
    if saved is not None:
        flash_done(request, _("Opportunity created."))
        return HTTPSeeOther(request.route_path("opportunities.detail", id=saved.id))
    return {"form": form, "opportunity": None, "customer": customer,
            "page_title": request.localizer.translate(_("New opportunity"))}


def _picker(request: Request) -> dict[str, Any]:
    """Which customer? The customers' own search (name, pinyin, initials) within the reader's."""
    ctx = request.ctx
    q = request.params.get("q", "").strip()[:100]
    found = []
    if q:
        found = list(ctx.dbsession.scalars(select(Customer).where(
            scope_condition(ctx, Customer, "read"), customer_search_condition(ctx, q))
            .order_by(Customer.name).limit(PICKER_LIMIT)))
    request.override_renderer = "addons.opportunities:templates/opportunities/pick_customer.jinja2"
    return {"q": q, "found": found, "page_title": request.localizer.translate(_("New opportunity"))}


def opportunity_edit(request: Request) -> Any:
    ctx = request.ctx
    opportunity = services.get_opportunity(ctx, int(request.matchdict["id"]), "write")
    form = opportunity_form(request, opportunity)

    def update() -> Opportunity:
        saved = services.update_opportunity(ctx, opportunity.id, **form.values())
        set_values(ctx, saved, custom_data(form))
        return services.set_collaborators(ctx, opportunity.id, form.collaborators.data or [])

    saved = save_form(request, form, update, ERRORS)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("opportunities.detail", id=opportunity.id))
    return {"form": form, "opportunity": opportunity, "customer": ctx.dbsession.get(Customer, opportunity.customer_id),
            "page_title": opportunity.title}


def opportunity_detail(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    opportunity = services.get_opportunity(ctx, int(request.matchdict["id"]))
    pipeline = ctx.dbsession.get(Pipeline, opportunity.pipeline_id)
    stages = [s for s in ctx.dbsession.scalars(select(pipelines.Stage).where(
        pipelines.Stage.pipeline_id == pipeline.id).order_by(pipelines.Stage.sequence, pipelines.Stage.id))
        if s.active or s.id == opportunity.stage_id]
    return {
        "opportunity": opportunity, "customer": ctx.dbsession.get(Customer, opportunity.customer_id),
        "pipeline": pipeline, "stages": stages,
        "stage": next(s for s in stages if s.id == opportunity.stage_id),
        "status_label": _STATUS_LABELS.get(opportunity.status, opportunity.status),
        "amount": format_cny(opportunity.amount),
        "weighted": format_cny(opportunity.amount * opportunity.probability / 100),
        "owner": customers.owner_label(ctx, opportunity.owner_id) if opportunity.owner_id else None,
        "history": [dict(item, duration_text=duration_text(item["duration"]))
                    for item in services.stage_history(ctx, opportunity.id)],
        "collaborators": members_of(ctx, opportunity),
        "lines": lines_for(ctx, [opportunity.id]).get(opportunity.id, []),
        "custom": shown_values(ctx, opportunity),
        "factors": [dict(f, label=scoring.label(f["factor"])) for f in opportunity.score_factors or []],
        "may_write": _may_write(ctx, opportunity),
        "panels": panels_for(request, opportunity, lazy=True), "page_title": opportunity.title,
    }


def _may_write(ctx: Any, opportunity: Opportunity) -> bool:
    if not ctx.access.can("opportunities.opportunity:write"):
        return False
    return ctx.dbsession.scalar(select(Opportunity.id).where(
        Opportunity.id == opportunity.id, scope_condition(ctx, Opportunity, "write"))) is not None



def duration_text(delta: Any) -> Any:
    """Time in a stage as people say it: 3 天 4 小时, 5 小时, 不到 1 小时."""
    days, hours = delta.days, delta.seconds // 3600
    if days:
        return _("${days} d ${hours} h", mapping={"days": days, "hours": hours})
    if hours:
        return _("${hours} h", mapping={"hours": hours})
    return _("under an hour")
