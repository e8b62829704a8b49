"""The lead pools', assignment rules' and assignees' admin pages (``leads.pool:admin``): thin
views over ``pool`` and ``assignment``, which check the permission again and keep every rule."""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import select

from addons.customers import choices
from addons.customers.form_options import BLANK
from addons.customers.lists import format_cny
from core.access.exceptions import RecordNotFound
from core.customfields.services import fields_for
from core.i18n import _
from core.models import User
from core.org.services import department_tree
from core.web.forms import blank_form, flash_done, save_form

from . import TEMPLATES, assignment, exceptions, pool
from .admin_forms import (
    FIELD_LABELS,
    OP_LABELS,
    STRATEGY_LABELS,
    AssigneeForm,
    PoolAdminForm,
    PreviewForm,
    RuleForm,
    condition_rows,
    posted_conditions,
)
from .models import Lead, LeadRule

ADMIN = "leads.pool:admin"
POOL_ERRORS = {
    exceptions.LeadPoolNameRequired: "name",
    exceptions.LeadPoolLimitInvalid: "max_claims_per_day",
    exceptions.LeadPoolInUse: "active",
}
ASSIGNEE_ERRORS = {
    exceptions.AssigneeWeightInvalid: "weight",
    exceptions.AssigneeHoursInvalid: "work_end",
    exceptions.AssigneeAwayInvalid: "away_until",
}
PREVIEW_BOX = TEMPLATES + "admin_preview_box.jinja2"


def include_admin(config: Configurator) -> None:
    """Routes and views of the admin pages (``leads.pools``, ``leads.rules`` …)."""
    config.add_route("leads.pools", "/leads/pools")
    config.add_route("leads.pool_new", "/leads/pools/new")
    config.add_route("leads.pool_edit", "/leads/pools/{id:\\d+}/edit")
    config.add_route("leads.rules", "/leads/rules")
    config.add_route("leads.rule_new", "/leads/rules/new")
    config.add_route("leads.rule_edit", "/leads/rules/{id:\\d+}/edit")
    config.add_route("leads.rule_delete", "/leads/rules/{id:\\d+}/delete")  # POST
    config.add_route("leads.rule_preview", "/leads/rules/{id:\\d+}/preview")  # POST: htmx fragment or a page
    config.add_route("leads.assignees", "/leads/assignees")
    config.add_route("leads.assignee_edit", "/leads/assignees/{user_id:\\d+}")
    config.add_view(pools_page, route_name="leads.pools", request_method="GET",
                    renderer=TEMPLATES + "pools.jinja2", permission=ADMIN)
    for route in ("leads.pool_new", "leads.pool_edit"):
        config.add_view(pool_edit, route_name=route, renderer=TEMPLATES + "pool_form.jinja2", permission=ADMIN)
    config.add_view(rules_page, route_name="leads.rules", request_method="GET",
                    renderer=TEMPLATES + "rules.jinja2", permission=ADMIN)
    for route in ("leads.rule_new", "leads.rule_edit"):
        config.add_view(rule_edit, route_name=route, renderer=TEMPLATES + "rule_form.jinja2", permission=ADMIN)
    config.add_view(rule_delete, route_name="leads.rule_delete", request_method="POST", permission=ADMIN)
    config.add_view(rule_preview, route_name="leads.rule_preview", request_method="POST",
                    renderer=TEMPLATES + "admin_preview.jinja2", permission=ADMIN)
    config.add_view(assignees_page, route_name="leads.assignees", request_method="GET",
                    renderer=TEMPLATES + "assignees.jinja2", permission=ADMIN)
    config.add_view(assignee_edit, route_name="leads.assignee_edit",
                    renderer=TEMPLATES + "admin_assignee_form.jinja2", permission=ADMIN)


# ---------------------------------------------------------------- pools


def pools_page(request: Request) -> dict[str, Any]:
    """Every pool with how many leads it holds and its limits (a bounded number of queries)."""
    ctx = request.ctx
    rows = pool.pools_with_counts(ctx)
    return {"rows": rows, "departments": {d.id: d.name for d in department_tree(ctx)},
            "page_title": request.localizer.translate(_("Lead pools"))}


def pool_edit(request: Request) -> Any:
    """Create (no id) or change a pool; a refusal is shown beside its field and writes nothing."""
    ctx = request.ctx
    ctx.access.require(ADMIN)
    record = pool.get_pool(ctx, int(request.matchdict["id"])) if "id" in request.matchdict else None
    form = PoolAdminForm.for_request(request, obj=record)
    if record is not None and request.method != "POST":
        form.department_id.data = record.department_id or 0
    form.department_id.choices = [(0, request.localizer.translate(_("Company-wide"))),
                                  *((d.id, d.name) for d in department_tree(ctx))]
    saved = save_form(request, form, lambda: pool.save_pool(ctx, record.id if record else None, **form.values()),
                      POOL_ERRORS)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("leads.pools"))
    return {"form": form, "pool": record,
            "page_title": record.name if record else request.localizer.translate(_("New lead pool"))}


# ---------------------------------------------------------------- rules


def rules_page(request: Request) -> dict[str, Any]:
    """The rules in the order they are tried, their conditions in words and whom they assign to."""
    ctx = request.ctx
    rules = assignment.rules_in_order(ctx)
    departments = {d.id: d.name for d in department_tree(ctx)}
    words = _describer(request)
    users = _user_labels(ctx, {rule.user_id for rule in rules})
    return {"rules": rules, "conditions": {rule.id: words(rule.conditions or []) for rule in rules},
            "targets": {rule.id: _target(rule, users, departments) for rule in rules},
            "strategies": STRATEGY_LABELS, "page_title": request.localizer.translate(_("Assignment rules"))}


def rule_edit(request: Request) -> Any:
    """Create (no id) or change a rule with its condition rows; the preview form sits below."""
    ctx = request.ctx
    ctx.access.require(ADMIN)
    record = assignment.get_rule(ctx, int(request.matchdict["id"])) if "id" in request.matchdict else None
    form = RuleForm.for_request(request, obj=record)
    if record is not None and request.method != "POST":
        form.user_id.data, form.department_id.data = record.user_id or 0, record.department_id or 0
    conditions = posted_conditions(request.POST) if request.method == "POST" else list(
        record.conditions or []) if record is not None else []
    _rule_choices(request, form, record)
    errors = {exceptions.RuleNameRequired: "name", exceptions.RuleStrategyUnknown: "strategy",
              exceptions.RuleTargetMissing: "user_id" if form.strategy.data == "user" else "department_id",
              exceptions.RuleConditionInvalid: "conditions"}
    saved = save_form(request, form, lambda: assignment.save_rule(ctx, record.id if record else None,
                                                                  **form.values(conditions)), errors)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("leads.rules"))
    return {"form": form, "rule": record, "rows": condition_rows(conditions), "fields": _field_choices(request),
            "ops": [(op, request.localizer.translate(label)) for op, label in OP_LABELS.items()],
            **(_preview_context(request, record, blank_form(PreviewForm, request)) if record is not None else
               {"preview_form": None, "custom_inputs": [], "result": None}),
            "page_title": record.name if record else request.localizer.translate(_("New assignment rule"))}


def rule_delete(request: Request) -> Any:
    ctx = request.ctx
    assignment.delete_rule(ctx, int(request.matchdict["id"]))
    flash_done(request, _("The rule was deleted."))
    return HTTPSeeOther(request.route_path("leads.rules"))


def rule_preview(request: Request) -> Any:
    """"Test this rule against a sample lead": does it match, and to whom would it give the lead
    now? Moves nothing. An htmx request gets the result alone, a plain POST a page."""
    ctx = request.ctx
    rule = assignment.get_rule(ctx, int(request.matchdict["id"]))
    form = PreviewForm.for_request(request)
    context = _preview_context(request, rule, form)
    if form.validate():
        sample = form.sample()
        sample.update({name: value.strip() for name, value in request.POST.items()
                       if name in {field for field, _label, _value in context["custom_inputs"]} and value.strip()})
        matched, chosen = assignment.preview(ctx, rule, sample)
        context["result"] = {"matched": matched, "owner": _user_labels(ctx, {chosen}).get(chosen) if chosen else None}
    if request.headers.get("HX-Request"):
        request.override_renderer = PREVIEW_BOX
    words = _describer(request)
    return {**context, "rule": rule, "conditions": words(rule.conditions or []),
            "page_title": rule.name}


def _preview_context(request: Request, rule: LeadRule, form: PreviewForm) -> dict[str, Any]:
    """The sample form (the lists' choices set) and the custom fields the rule tests, as inputs
    ``[(name, label, value)]``."""
    ctx = request.ctx
    for kind in choices.KINDS:
        form[kind].choices = [BLANK, *choices.options(ctx, kind, form[kind].data or None)]
    tested = {c.get("field") for c in rule.conditions or []}
    custom = [(f.name, f.label, request.POST.get(f.name, "") if request.method == "POST" else "")
              for f in fields_for(ctx, Lead) if f.name in tested]
    return {"preview_form": form, "custom_inputs": custom, "result": None}


def _rule_choices(request: Request, form: RuleForm, record: LeadRule | None) -> None:
    ctx = request.ctx
    none = (0, "—")
    people = [(user.id, user.label) for user in assignment.assignable_users(ctx)]
    current = record.user_id if record is not None else None
    if current and current not in {i for i, _label in people}:  # keep a rule's user visible
        people.append((current, _user_labels(ctx, {current}).get(current, str(current))))
    form.user_id.choices = [none, *people]
    form.department_id.choices = [none, *((d.id, d.name) for d in department_tree(ctx))]


def _field_choices(request: Request) -> list[tuple[str, str]]:
    """What a condition may test: the lead's fields, then its custom fields."""
    translate = request.localizer.translate
    return [("", "—"), *((name, translate(label)) for name, label in FIELD_LABELS.items()),
            *((f.name, f.label) for f in fields_for(request.ctx, Lead))]


def _describer(request: Request) -> Any:
    """A function: a rule's conditions in words, one phrase each ("来源 是其中之一 展会、官网")."""
    ctx = request.ctx
    translate = request.localizer.translate
    names = {name: translate(label) for name, label in FIELD_LABELS.items()}
    names.update({f.name: f.label for f in fields_for(ctx, Lead)})
    values = {kind: choices.labels(ctx, kind) for kind in choices.KINDS}

    def describe(conditions: Sequence[Mapping[str, Any]]) -> list[str]:
        phrases = []
        for condition in conditions:
            field, wanted = condition.get("field", ""), condition.get("value")
            shown = values.get(field, {})
            items = wanted if isinstance(wanted, list) else [wanted]
            if field == "budget":
                text = "、".join(_yuan(item) for item in items)
            else:
                text = "、".join(shown.get(str(item), str(item)) for item in items)
            op = OP_LABELS.get(condition.get("op", ""), condition.get("op", ""))
            phrases.append(f"{names.get(field, field)} {translate(op)} {text}")
        return phrases

    return describe


def _yuan(value: Any) -> str:
    try:
        return format_cny(decimal.Decimal(str(value)))
    except decimal.InvalidOperation:
        return str(value)


def _target(rule: LeadRule, users: Mapping[int, str], departments: Mapping[int, str]) -> str:
    if rule.strategy == "user":
        return users.get(rule.user_id, "—") if rule.user_id else "—"
    return departments.get(rule.department_id, "—") if rule.department_id else "—"


def _user_labels(ctx: Any, user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = ctx.dbsession.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    return {user_id: display_name or username for user_id, display_name, username in rows}


# ---------------------------------------------------------------- the people who receive leads


def assignees_page(request: Request) -> dict[str, Any]:
    """Who may receive leads, with their settings: on leave, weight, working hours."""
    ctx = request.ctx
    people = assignment.assignable_users(ctx)
    settings = assignment.assignee_settings(ctx, [u.id for u in people])
    away = {user.id for user in people if (setting := settings.get(user.id)) is not None
            and setting.away_until is not None
            and ctx.now.astimezone(ZoneInfo(user.timezone or assignment.DEFAULT_ZONE)).date() <= setting.away_until}
    return {"people": people, "settings": settings, "away": away,
            "page_title": request.localizer.translate(_("Lead assignees"))}


def assignee_edit(request: Request) -> Any:
    """One person's assignment settings; a refusal is shown beside its field and writes nothing."""
    ctx = request.ctx
    user_id = int(request.matchdict["user_id"])
    person = next((user for user in assignment.assignable_users(ctx) if user.id == user_id), None)
    if person is None:
        raise RecordNotFound()
    setting = assignment.assignee_settings(ctx, [user_id]).get(user_id)
    form = AssigneeForm.for_request(request, obj=setting)
    saved = save_form(request, form, lambda: assignment.save_assignee(ctx, user_id, **form.values()),
                      ASSIGNEE_ERRORS)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("leads.assignees"))
    return {"form": form, "person": person, "page_title": person.label}

