"""Thin pages: read the request, call a service with ``request.ctx``, render a template."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from core.access.masking import shown as shown_value
from core.i18n import _
from core.web.forms import flash_done, save_form
from core.web.panels import panels_for

from . import exceptions, services
from .forms import DEAL_CHOICES, FOLLOWUP_KINDS, ContactForm, CustomerForm, FollowupForm, to_utc

CUSTOMER_ERRORS = {
    exceptions.CustomerNameTaken: "name",
    exceptions.NameRequired: "name",
    exceptions.CreditCodeInvalid: "credit_code",
    exceptions.CreditCodeTaken: "credit_code",
}
CONTACT_ERRORS = {exceptions.MobileInvalid: "mobile", exceptions.NameRequired: "name"}


def customer_detail(request: Request) -> dict[str, Any]:
    """The 360° page: facts, contacts, the follow-up timeline with its quick-add form, and the
    panels other addons contribute."""
    ctx = request.ctx
    customer = services.get_customer(ctx, int(request.matchdict["id"]))
    form = FollowupForm.for_request(request)
    return _detail(request, customer, form)


def followup_add(request: Request) -> Any:
    """The quick-add form's POST: back to the page on success, the page with errors otherwise."""
    ctx = request.ctx
    customer = services.get_customer(ctx, int(request.matchdict["id"]))
    form = FollowupForm.for_request(request)
    timezone = getattr(request.user, "timezone", None)
    saved = save_form(request, form, lambda: services.add_followup(
        ctx, customer.id, kind=form.kind.data, content=form.content.data,
        next_at=to_utc(form.next_at.data, timezone), next_step=form.next_step.data),
        {exceptions.ContentRequired: "content"})
    if saved is not None:
        flash_done(request, _("Follow-up saved."))
        return HTTPSeeOther(request.route_path("customers.detail", id=customer.id) + "#followups")
    return _detail(request, customer, form)


def _detail(request: Request, customer: Any, form: FollowupForm) -> dict[str, Any]:
    ctx = request.ctx
    contacts = services.list_contacts(ctx, customer.id) if ctx.access.can("customers.contact:read") else []
    followups = services.list_followups(ctx, customer.id) if ctx.access.can("customers.followup:read") else []
    owner = services.owner_label(ctx, customer.owner_id)
    return {
        "customer": customer, "owner": owner, "contacts": contacts, "followups": followups, "form": form,
        "kinds": dict(FOLLOWUP_KINDS), "deal_labels": dict(DEAL_CHOICES),
        "may_write": ctx.access.can("customers.customer:write"),
        "may_follow": ctx.access.can("customers.followup:create"),
        "may_add_contact": ctx.access.can("customers.contact:create"),
        "may_edit_contact": ctx.access.can("customers.contact:write"),
        "panels": panels_for(request, customer), "page_title": customer.name,
    }


def customer_new(request: Request) -> Any:
    ctx = request.ctx
    form = CustomerForm.for_request(request)
    saved = save_form(request, form, lambda: services.create_customer(ctx, **form.values()), CUSTOMER_ERRORS)
    if saved is not None:
        flash_done(request, _("Customer created."))
        return HTTPSeeOther(request.route_path("customers.detail", id=saved.id))
    return {"form": form, "customer": None, "page_title": request.localizer.translate(_("New customer"))}


def customer_edit(request: Request) -> Any:
    ctx = request.ctx
    customer = services.get_customer(ctx, int(request.matchdict["id"]), "write")
    form = CustomerForm.for_request(request, obj=customer)
    saved = save_form(request, form, lambda: services.update_customer(ctx, customer.id, **form.values()),
                      CUSTOMER_ERRORS)
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


def duplicates(request: Request) -> dict[str, Any]:
    """查重: anyone with read access searches the whole installation; names and owners only."""
    params = request.GET
    name, mobile, code = (params.get(k, "").strip()[:200] for k in ("name", "mobile", "credit_code"))
    hits = services.find_duplicates(request.ctx, name=name or None, mobile=mobile or None, credit_code=code or None)
    return {"hits": hits, "name": name, "mobile": mobile, "credit_code": code, "searched": bool(name or mobile or code),
            "page_title": request.localizer.translate(_("Duplicate check"))}
