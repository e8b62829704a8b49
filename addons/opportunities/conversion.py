"""Where opportunities meet the other addons' records: the opportunity a lead conversion opens
(``leads_conversion_steps`` / ``leads_converted``, answered without importing the leads addon,
which need not be installed) and the customers an open opportunity keeps out of the pool."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.context import Ctx
from core.i18n import _

from . import services
from .models import Opportunity

TEMPLATES = "addons.opportunities:templates/opportunities/"
STEP = "opportunity"


def conversion_steps(ctx: Ctx, lead: Any) -> list[dict[str, Any]]:
    """"Open an opportunity" with the lead's name and budget, for whoever may create one."""
    if not ctx.access.can("opportunities.opportunity:create"):
        return []
    budget = getattr(lead, "budget", None)
    return [{"key": STEP, "title": _("Open an opportunity"), "template": TEMPLATES + "convert_step.jinja2",
             "initial": {"title": getattr(lead, "name", ""), "amount": f"{budget:f}" if budget is not None else "",
                         "expected_close": ""}}]


def open_from_lead(ctx: Ctx, conversion: Any) -> Opportunity | None:
    """The opportunity asked for on the conversion (``options["opportunity"]``): for the new
    customer, owned by the customer's owner, in the default pipeline's first stage. Its
    refusal (no title, a bad amount or date) undoes the whole conversion."""
    wanted = conversion.options.get(STEP)
    if not wanted:
        return None
    amount = wanted.get("amount")
    return services.create_opportunity(
        ctx, customer_id=conversion.customer_id, title=wanted.get("title") or conversion.lead_name,
        amount=amount if amount not in (None, "") else conversion.budget,
        expected_close=wanted.get("expected_close") or None, owner_id=conversion.owner_id,
        lead_id=conversion.lead_id)


def customers_with_open_opportunities(ctx: Ctx, customer_ids: list[int]) -> list[int]:
    if not customer_ids:
        return []
    return list(ctx.dbsession.scalars(select(Opportunity.customer_id).distinct().where(
        Opportunity.customer_id.in_(list(customer_ids)), Opportunity.status == "open",
        Opportunity.deleted_at.is_(None))))
