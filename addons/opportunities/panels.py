"""The customer page's 360° panel (``kehu_record_panels``): the customer's open and past
opportunities, with a button to open a new one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from addons.customers.lists import format_cny
from addons.customers.models import Customer
from core.access.scopes import scope_condition
from core.contributions import RecordPanel
from core.i18n import _

from .models import Opportunity

TEMPLATES = "addons.opportunities:templates/opportunities/"
SHOWN = 20


def record_panels(request: Any, record: Any) -> list[RecordPanel]:
    if not isinstance(record, Customer):
        return []
    return [RecordPanel(id="opportunities.customer", title=_("Opportunities"), template=TEMPLATES + "panel.jinja2",
                        context=customer_opportunities, order=5, permission="opportunities.opportunity:read")]


def customer_opportunities(request: Any, customer: Customer) -> dict[str, Any]:
    """Open ones first (by close date), then the closed, within the reader's scope: one query."""
    ctx = request.ctx
    rows = list(ctx.dbsession.scalars(
        select(Opportunity).where(Opportunity.customer_id == customer.id, scope_condition(ctx, Opportunity, "read"))
        .options(selectinload(Opportunity.stage))
        .order_by((Opportunity.status != "open"), Opportunity.expected_close, Opportunity.id.desc()).limit(SHOWN)))
    open_ = [o for o in rows if o.status == "open"]
    return {"customer": customer, "open": open_, "closed": [o for o in rows if o.status != "open"],
            "open_total": format_cny(sum((o.amount for o in open_), start=0)), "cny": format_cny,
            "may_create": ctx.access.can("opportunities.opportunity:create")}
