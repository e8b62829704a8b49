"""Thin pages: read the request, call a service with ``request.ctx``, render a template."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import func, select

from core.access.masking import shown as shown_value
from core.access.recycle import live
from core.exceptions import KehuError
from core.i18n import _
from core.org.services import department_tree
from core.web.forms import blank_form, flash_done, save_form
from core.web.panels import panels_for

from . import custom_fields, exceptions, form_options, plan_views, pool, pool_views, services
from .forms import (
    DEAL_CHOICES,
    FOLLOWUP_KINDS,
    ContactForm,
    FollowupForm,
    ReturnForm,
    to_utc,
)
from .models import Customer, Pool, PoolMember

CUSTOMER_ERRORS = {
    exceptions.CustomerNameTaken: "name",
    exceptions.NameRequired: "name",
    exceptions.CreditCodeInvalid: "credit_code",
    exceptions.CreditCodeTaken: "credit_code",
    **form_options.ERRORS,
}
CONTACT_ERRORS = {exceptions.MobileInvalid: "mobile", exceptions.NameRequired: "name"}


def customer_detail(request: Request) -> dict[str, Any]:
    """The 360° page: facts, contacts, the follow-up timeline with its quick-add form, and the
    panels other addons contribute."""
    ctx = request.ctx
    customer = pool.get_customer(ctx, int(request.matchdict["id"]))
    form = FollowupForm.for_request(request)
    return _detail(request, customer, form)


def followup_add(request: Request) -> Any:
    """The quick-add form's POST: back to the page on success, the page with errors otherwise.
    From a list row (写跟进, ``next`` given) it returns to that list, or shows the small form again."""
    ctx = request.ctx
    customer = services.get_customer(ctx, int(request.matchdict["id"]))
    form = FollowupForm.for_request(request)
    back = plan_views.quick_next(request, request.POST.get("next"))
    timezone = getattr(request.user, "timezone", None)
    saved = save_form(request, form, lambda: services.add_followup(
        ctx, customer.id, kind=form.kind.data, content=form.content.data,
        next_at=to_utc(form.next_at.data, timezone), next_step=form.next_step.data),
        {exceptions.ContentRequired: "content"})
    if saved is not None:
        flash_done(request, _("Follow-up saved."))
        return HTTPSeeOther(back or request.route_path("customers.detail", id=customer.id) + "#followups")
    if back:
        return plan_views.quick_page_with_errors(request, customer, form, back)
    return _detail(request, customer, form)


def pool_return(request: Request) -> Any:
    """放入公海: back to the customer page (now a pool customer) or the page with the errors."""
    ctx = request.ctx
    customer = services.get_customer(ctx, int(request.matchdict["id"]), "write")
    form = _return_form(request)
    saved = save_form(request, form, lambda: pool.return_to_pool(ctx, customer.id, form.pool_id.data,
                                                                 form.reason.data),
                      {exceptions.ReasonRequired: "reason", exceptions.PoolUnavailable: "pool_id"})
    if saved is not None:
        flash_done(request, _("The customer is back in the pool."))
        return HTTPSeeOther(request.route_path("customers.detail", id=customer.id))
    return _detail(request, customer, blank_form(FollowupForm, request), return_form=form)


def pool_claim(request: Request) -> Any:
    """领取 from the customer page; a refusal (taken, a limit) is shown on the pool list."""
    ctx = request.ctx
    customer_id = int(request.matchdict["id"])
    try:
        with request.dbsession.begin_nested():
            pool.claim_from_pool(ctx, [customer_id])
    except KehuError as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
        return HTTPSeeOther(request.route_path("customers.pool.list"))
    flash_done(request, _("The customer is yours."))
    return HTTPSeeOther(request.route_path("customers.detail", id=customer_id))


MOVES = {"claimed": _("Claimed from the pool"), "returned": _("Returned to the pool"),
         "auto_returned": _("Returned to the pool automatically"), "warned": _("Warned: goes back to the pool soon"),
         "assigned": _("Assigned from the pool"), "locked": _("Locked"), "unlocked": _("Unlocked"),
         "imported": _("Imported into the pool")}


def _moves(request: Request, customer: Any) -> list[dict[str, Any]]:
    """The customer's pool history for the timeline, with who acted and why."""
    ctx = request.ctx
    moves = pool.pool_moves(ctx, customer.id)
    names = {p.id: p.name for p in ctx.dbsession.scalars(select(Pool))} if moves else {}
    out = []
    for move in moves:
        reason = pool.move_reason(move)
        reason = request.localizer.translate(reason) if reason is not None else None
        out.append({"move": move, "label": MOVES.get(move.action, move.action), "reason": reason,
                    "pool": names.get(move.pool_id, "—"),
                    "user": services.owner_label(ctx, move.user_id or move.previous_owner_id)})
    return out


def _return_form(request: Request, blank: bool = False) -> ReturnForm:
    form = blank_form(ReturnForm, request) if blank else ReturnForm.for_request(request)
    form.pool_id.choices = [(p.id, p.name) for p in pool.pools_for(request.ctx)]
    return form


def _detail(request: Request, customer: Any, form: FollowupForm, return_form: ReturnForm | None = None
            ) -> dict[str, Any]:
    ctx = request.ctx
    contacts = services.list_contacts(ctx, customer.id) if ctx.access.can("customers.contact:read") else []
    followups = services.list_followups(ctx, customer.id) if ctx.access.can("customers.followup:read") else []
    owner = services.owner_label(ctx, customer.owner_id)
    return {
        "customer": customer, "owner": owner, "contacts": contacts, "followups": followups, "form": form,
        "facts": form_options.detail_facts(ctx, customer),  # list labels, tags
        "custom": custom_fields.shown(ctx, customer),  # admins' custom fields
        "kinds": dict(FOLLOWUP_KINDS), "deal_labels": dict(DEAL_CHOICES),
        "may_write": ctx.access.can("customers.customer:write"),
        "may_follow": ctx.access.can("customers.followup:create"),
        "may_add_contact": ctx.access.can("customers.contact:create"),
        "may_edit_contact": ctx.access.can("customers.contact:write"),
        "panels": panels_for(request, customer, lazy=True), "page_title": customer.name,
        "moves": _moves(request, customer),
        "plans": plan_views.plan_box(request, customer),  # 跟进计划: open ones with their buttons, closed ones
        "may_claim": customer.owner_id is None and ctx.access.can("customers.pool:claim"),
        "may_return": customer.owner_id is not None and ctx.access.can("customers.customer:write"),
        "return_form": return_form if return_form is not None else _return_form(request, blank=True),
        **pool_views.detail_extras(request, customer),  # 锁定, 分配 / 转移
    }


def customer_new(request: Request) -> Any:
    ctx = request.ctx
    form = custom_fields.customer_form(request)
    form_options.prepare(request, form)
    saved = save_form(request, form, lambda: custom_fields.save_custom(ctx, form_options.save_tags(
        ctx, services.create_customer(ctx, **form.values()), form), form, creating=True), CUSTOMER_ERRORS)
    if saved is not None:
        flash_done(request, _("Customer created."))
        return HTTPSeeOther(request.route_path("customers.detail", id=saved.id))
    return {"form": form, "customer": None, "page_title": request.localizer.translate(_("New customer"))}


def customer_edit(request: Request) -> Any:
    ctx = request.ctx
    customer = services.get_customer(ctx, int(request.matchdict["id"]), "write")
    form = custom_fields.customer_form(request, customer)
    form_options.prepare(request, form, customer)
    saved = save_form(request, form, lambda: custom_fields.save_custom(ctx, form_options.save_tags(
        ctx, services.update_customer(ctx, customer.id, **form.values()), form), form), CUSTOMER_ERRORS)
    if saved is not None:
        flash_done(request, _("Saved."))
        return HTTPSeeOther(request.route_path("customers.detail", id=customer.id))
    return {"form": form, "customer": customer, "page_title": customer.name}


def contact_new(request: Request) -> Any:
    ctx = request.ctx
    customer = services.get_customer(ctx, int(request.matchdict["id"]), "write")
    form = ContactForm.for_request(request)
    saved = save_form(request, form, lambda: services.add_contact(ctx, customer.id, **form.values()),
                      CONTACT_ERRORS)
    if saved is not None:
        flash_done(request, _("Contact saved."))
        return HTTPSeeOther(request.route_path("customers.detail", id=customer.id) + "#contacts")
    return {"form": form, "customer": customer, "contact": None,
            "page_title": request.localizer.translate(_("New contact"))}


def contact_edit(request: Request) -> Any:
    """Edit a contact; sensitive fields show masked to readers without see_sensitive, and a
    masked value left as it is does not overwrite the stored one."""
    ctx = request.ctx
    contact = services.get_contact(ctx, int(request.matchdict["id"]), "write")
    customer = services.get_customer(ctx, contact.customer_id)
    shown = {field: shown_value(ctx, contact, field) for field in services.CONTACT_FIELDS}
    form = ContactForm.for_request(request, **({} if request.method == "POST" else {"data": shown}))

    def save() -> Any:
        # a masked value sent back unchanged means "keep what is stored"
        values = {f: v for f, v in form.values().items() if not (v == shown[f] and v != getattr(contact, f))}
        return services.update_contact(ctx, contact.id, **values)

    saved = save_form(request, form, save, CONTACT_ERRORS)
    if saved is not None:
        flash_done(request, _("Contact saved."))
        return HTTPSeeOther(request.route_path("customers.detail", id=customer.id) + "#contacts")
    return {"form": form, "customer": customer, "contact": contact, "page_title": contact.name}


def pools_admin(request: Request) -> dict[str, Any]:
    """The pools and their rules (admin), with how many customers each holds."""
    ctx = request.ctx
    ctx.access.require("customers.pool:admin")
    held = dict(ctx.dbsession.execute(select(Customer.pool_id, func.count()).where(Customer.owner_id.is_(None),
                                                                              live(Customer))
                                      .group_by(Customer.pool_id)).all())
    departments = {d.id: d.name for d in department_tree(ctx)}
    named = dict(ctx.dbsession.execute(select(PoolMember.pool_id, func.count()).group_by(PoolMember.pool_id)).all())
    return {"pools": pool.pools_for(ctx) + _inactive_pools(ctx), "held": held, "departments": departments,
            "named": named, "page_title": request.localizer.translate(_("Public pools"))}


def _inactive_pools(ctx: Any) -> list[Pool]:
    return list(ctx.dbsession.scalars(select(Pool).where(Pool.active.is_(False)).order_by(Pool.name, Pool.id)))
