"""The administrator's pages of opportunities (``opportunities.settings:admin``): pipelines and
their stages, the scoring weights, the sales targets grid. Thin views over ``pipelines``,
``scoring`` and ``reports``, which check the permission again and keep every rule."""

from __future__ import annotations

import decimal
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import select

from addons.customers.lists import format_cny
from core.i18n import _
from core.models import Department
from core.org.services import department_tree
from core.web.forms import flash_done, save_form

from . import TEMPLATES, exceptions, pipelines, reports, scoring
from .admin_forms import KIND_LABELS, PipelineForm, ScoringForm, posted_stages, posted_targets, stage_rows

ADMIN = "opportunities.settings:admin"
PIPELINE_ERRORS = {
    exceptions.PipelineNameRequired: "name",
    exceptions.StageSetInvalid: "stages",
    exceptions.PipelineInUse: "active",
}
MONTHS = (_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"), _("Sep"), _("Oct"),
          _("Nov"), _("Dec"))
#: Years the targets grid offers around this one.
YEARS_BACK, YEARS_AHEAD = 3, 2


def include(config: Configurator) -> None:
    """Routes and views of the admin pages (``opportunities.pipelines`` …)."""
    config.add_route("opportunities.pipelines", "/opportunities/pipelines")
    config.add_route("opportunities.pipeline_new", "/opportunities/pipelines/new")
    config.add_route("opportunities.pipeline_edit", "/opportunities/pipelines/{id:\\d+}/edit")
    config.add_route("opportunities.scoring", "/opportunities/scoring")
    config.add_route("opportunities.targets", "/opportunities/targets")
    config.add_view(pipelines_page, route_name="opportunities.pipelines", request_method="GET",
                    renderer=TEMPLATES + "admin_pipelines.jinja2", permission=ADMIN)
    for route in ("opportunities.pipeline_new", "opportunities.pipeline_edit"):
        config.add_view(pipeline_edit, route_name=route, renderer=TEMPLATES + "admin_pipeline_form.jinja2",
                        permission=ADMIN)
    config.add_view(scoring_page, route_name="opportunities.scoring", renderer=TEMPLATES + "admin_scoring.jinja2",
                    permission=ADMIN)
    config.add_view(targets_page, route_name="opportunities.targets", renderer=TEMPLATES + "admin_targets.jinja2",
                    permission=ADMIN)


# ---------------------------------------------------------------- pipelines


def pipelines_page(request: Request) -> dict[str, Any]:
    """Every pipeline with its stages, department and open opportunities (a bounded number of queries)."""
    ctx = request.ctx
    rows = pipelines.pipelines_with_counts(ctx)
    return {"rows": rows, "departments": {d.id: d.name for d in department_tree(ctx)},
            "kinds": KIND_LABELS, "page_title": request.localizer.translate(_("Pipelines"))}


def pipeline_edit(request: Request) -> Any:
    """Create (no id) or change a pipeline with its stage rows; a refusal is shown beside its
    field and writes nothing. A new pipeline starts from the default stages."""
    ctx = request.ctx
    ctx.access.require(ADMIN)
    record = pipelines.get_pipeline(ctx, int(request.matchdict["id"])) if "id" in request.matchdict else None
    form = PipelineForm.for_request(request, obj=record)
    if request.method == "POST":
        stages = posted_stages(request.POST)
    elif record is not None:
        form.department_id.data = record.department_id or 0
        stages = [stage for stage in record.stages if stage.active]
    else:
        stages = [{"name": name, "probability": probability, "kind": kind}
                  for name, probability, kind in pipelines.DEFAULT_STAGES]
    form.department_id.choices = [(0, request.localizer.translate(_("Company-wide"))),
                                  *((d.id, d.name) for d in department_tree(ctx))]
    record_id = record.id if record is not None else None
    title = record.name if record is not None else request.localizer.translate(_("New pipeline"))
    saved = save_form(request, form, lambda: pipelines.save_pipeline(ctx, record_id, **form.values(stages)),
                      PIPELINE_ERRORS)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("opportunities.pipelines"))
    return {"form": form, "pipeline_id": record_id, "rows": stage_rows(stages), "kinds": KIND_LABELS,
            "page_title": title}


# ---------------------------------------------------------------- scoring


def scoring_page(request: Request) -> Any:
    """The factors' weights, what each factor gives points for, and each weight's share."""
    ctx = request.ctx
    ctx.access.require(ADMIN)
    current = scoring.weights(ctx)
    form = ScoringForm.for_request(request, prefix="weight", data=current)
    saved = save_form(request, form, lambda: scoring.save_weights(ctx, form.values()),
                      {exceptions.ScoringWeightsInvalid: "weights"})
    if saved is not None:
        flash_done(request, _("Saved: every open opportunity was scored again."))
        return HTTPSeeOther(request.route_path("opportunities.scoring"))
    total = sum(current.values()) or 1
    return {"form": form, "factors": scoring.FACTORS, "current": current,
            "shares": {key: round(100 * value / total) for key, value in current.items()},
            "rules": _scoring_rules(), "page_title": request.localizer.translate(_("Opportunity scoring"))}


def _scoring_rules() -> dict[str, Any]:
    """What each factor gives points for, in words built from the bands ``scoring`` uses."""
    def bands(items: Any, fmt: Any) -> str:
        return " · ".join(f"{fmt(bound)} → {points}" for bound, points in items)

    days = " · ".join(f"≤ {bound} → {points}" for bound, points in scoring.RECENCY_BANDS)
    age = " · ".join(f"≤ {bound} → {points}" for bound, points in scoring.AGE_BANDS)
    return {
        "stage": _("The opportunity's probability: 60% gives 60 points."),
        "amount": _("By amount (yuan): ${bands}.", mapping={"bands": bands(scoring.AMOUNT_BANDS,
                                                                           lambda b: f"≥ ¥{b:,}")}),
        "recency": _("Days since the customer's last follow-up: ${bands}; longer or never: 0.",
                     mapping={"bands": days}),
        "tier": _("The customer's level: ${bands}; none: 0.", mapping={"bands": " · ".join(
            f"{level} → {points}" for level, points in scoring.LEVEL_POINTS.items())}),
        "engagement": _("${points} points per follow-up with the customer in the last ${days} days, at most 100.",
                        mapping={"points": scoring.POINTS_PER_FOLLOWUP, "days": scoring.ENGAGEMENT_DAYS}),
        "age": _("Days since the opportunity was opened: ${bands}; older: 0.", mapping={"bands": age}),
    }


# ---------------------------------------------------------------- targets


def targets_page(request: Request) -> Any:
    """The year's targets: a row per salesperson, a column per month. Saving writes the changed
    cells only; a refused cell is named and marked, and then nothing is written."""
    ctx = request.ctx
    ctx.access.require(ADMIN)
    this_year = reports.current_year(ctx)
    raw = (request.POST if request.method == "POST" else request.GET).get("year", "")
    year = int(raw) if raw.isdigit() and this_year - 50 <= int(raw) <= this_year + 50 else this_year
    people = reports.sales_people(ctx)
    saved = reports.targets_of_year(ctx, year)
    values = {key: _plain(amount) for key, amount in saved.items()}
    refused: list[tuple[int, int]] = []
    if request.method == "POST":
        cells = posted_targets(request.POST, [person.id for person in people])
        result = reports.save_targets(ctx, year, cells)
        if not result.refused:
            flash_done(request, _("Saved: ${count} targets changed.", mapping={"count": result.changed}))
            return HTTPSeeOther(request.route_path("opportunities.targets", _query={"year": year}))
        refused = result.refused
        values = cells
    labels = {person.id: person.label for person in people}
    errors = [_("The target of ${person} for ${month} must be an amount of yuan from 0 up, e.g. 50000 or "
                "1,200.50.", mapping={"person": labels.get(user_id, str(user_id)), "month": _month(year, month)})
              for user_id, month in refused]
    departments = _department_names(request, {person.department_id for person in people})
    totals = {person.id: sum((amount for (user_id, _m), amount in saved.items() if user_id == person.id),
                             decimal.Decimal(0)) for person in people}
    return {"people": people, "departments": departments, "year": year,
            "years": sorted({*range(this_year - YEARS_BACK, this_year + YEARS_AHEAD + 1), year}), "months": MONTHS,
            "values": values, "refused": set(refused), "errors": errors, "totals": totals, "cny": format_cny,
            "page_title": request.localizer.translate(_("Sales targets"))}


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _plain(amount: decimal.Decimal) -> str:
    """5000.00 → "5000", 1200.50 → "1200.5": what an administrator would type."""
    return f"{amount.normalize():f}"


def _department_names(request: Request, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    query = select(Department.id, Department.name).where(Department.id.in_(wanted))
    return dict(request.dbsession.execute(query).all())

