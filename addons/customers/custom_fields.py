"""The customer form's and page's custom fields (自定义字段, defined by admins in the core):
the form gains one field per active definition, saving writes the values in the same savepoint
as the customer, the page lists them beside the built-in facts."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from core.customfields.forms import custom_data, fill_custom, with_custom_fields
from core.customfields.services import set_values, shown_values, values_for

from .forms import CustomerForm
from .models import Customer


def customer_form(request: Request, customer: Customer | None = None) -> Any:
    """The customer form with today's custom fields, holding the record's values on GET."""
    form_class = with_custom_fields(CustomerForm, request.ctx, Customer)
    form = form_class.for_request(request, obj=customer)
    if customer is not None and request.method != "POST":
        fill_custom(form, values_for(request.ctx, Customer, [customer.id])[customer.id])
    return form


def save_custom(ctx: Any, customer: Customer, form: Any, *, creating: bool = False) -> Customer:
    set_values(ctx, customer, custom_data(form), creating=creating)
    return customer


def shown(ctx: Any, customer: Customer) -> list[tuple[str, Any]]:
    """(label, value) of the customer's custom fields, in the admin's order, blanks as "—"."""
    return shown_values(ctx, customer)
