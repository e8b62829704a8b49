"""The customers addon's own panels on the customer's 360° page (team, attachments), and how
the core's lazy panel route finds a customer again: as the page does, in the reader's scope or
in one of the reader's pools (``pool.get_customer``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.access.exceptions import RecordNotFound
from core.access.scopes import get_in_scope
from core.contributions import RecordPanel
from core.i18n import _
from core.models import Department, User

from . import attachments, pool, team_views
from .models import Customer

TEMPLATES = "addons.customers:templates/customers/panels/"


def load_customer(ctx: Any, customer_id: int) -> Customer:
    """The record loader of ``customers_customer`` (``config.add_record_loader``)."""
    return pool.get_customer(ctx, customer_id)


def record_panels(request: Any, record: Any) -> list[RecordPanel]:
    if not isinstance(record, Customer):
        return []
    return [
        RecordPanel(id="customers.team", title=_("Team"), template=TEMPLATES + "team.jinja2", context=team,
                    order=10, permission="customers.customer:read"),
        RecordPanel(id="customers.attachments", title=_("Attachments"), template=TEMPLATES + "attachments.jinja2",
                    context=attachment_list, order=20, permission="customers.customer:read"),
    ]


def team(request: Any, customer: Customer) -> dict[str, Any]:
    """The owner and their department (one query), the team members (团队成员) and, for who may
    edit the customer, the form to add one."""
    owner = None
    if customer.owner_id is not None:
        row = request.dbsession.execute(
            select(User.display_name, User.username, Department.name)
            .outerjoin(Department, Department.id == User.department_id).where(User.id == customer.owner_id)).first()
        if row is not None:
            owner = {"name": row[0] or row[1], "department": row[2]}
    may_write = request.ctx.access.can("customers.customer:write") and _may_write(request.ctx, customer)
    return {"owner": owner, "customer": customer, "team": team_views.team_box(request, customer, may_write)}


def _may_write(ctx: Any, customer: Customer) -> bool:
    try:
        get_in_scope(ctx, Customer, customer.id, "write")
    except RecordNotFound:
        return False
    return True


def attachment_list(request: Any, customer: Customer) -> dict[str, Any]:
    ctx = request.ctx
    return {"customer": customer, "files": attachments.list_attachments(ctx, customer.id),
            "may_attach": attachments.may_attach(ctx, customer.id),
            "max_mib": f"{attachments.max_bytes(request.registry.settings) / 1024 / 1024:g}",
            "accept": ",".join("." + extension for extension in sorted(attachments.ALLOWED))}
