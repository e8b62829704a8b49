"""A contact's own address: contacts have no page of their own — they live on their customer's
page — so ``/customers/contacts/{id}`` (what the contacts list links each row and its customer
to) sends the reader there, at the contacts card. Who may see it is who sees it on the contacts
list (the contacts of the customers in the reader's scope, team members' included); anyone else
gets a 404, as for any record."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import select

from core.access.exceptions import RecordNotFound

from .lists import CONTACTS_LIST, contacts_of_visible_customers
from .models import Contact


def contact_page(request: Request) -> HTTPSeeOther:
    visible = contacts_of_visible_customers(request.ctx, CONTACTS_LIST, "read")
    customer_id = request.dbsession.scalar(select(Contact.customer_id).where(
        Contact.id == int(request.matchdict["id"]), visible))
    if customer_id is None:
        raise RecordNotFound()
    return HTTPSeeOther(request.route_path("customers.detail", id=customer_id, _anchor="contacts"))
