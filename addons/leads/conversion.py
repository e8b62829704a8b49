"""Lead → customer conversion (L4, D-LEAD): one step makes (or picks) the customer, a contact
from the lead's person, carries the lead's follow-ups over, and marks the lead 已转化 — kept,
read-only, linked to its customer. Other addons join through ``leads_converted`` (the
opportunities addon makes the opportunity), all in one transaction: a refusal anywhere undoes
everything.

A lead whose company is already a customer is not converted into a second one: the customers'
unique name refuses it (CustomerNameTaken names the owner) and the user picks that customer
instead, as D-DUP asks.
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import select

from addons.customers import services as customers
from addons.customers.models import Customer, Followup
from addons.customers.plans import plan_from_followup
from core.context import Ctx

from .exceptions import LeadConverted, LeadNotQualified
from .models import Lead, LeadFollowup
from .plans import announce, plan_state
from .services import changed, get_lead

#: Lead fields a new customer takes over (the customers' own names where they differ).
CUSTOMER_FIELDS = {"source": "source", "industry": "industry", "level": "level", "province": "province",
                   "city": "city", "address": "address", "requirement": "remarks"}


@dataclasses.dataclass(frozen=True)
class LeadConversion:
    """What ``leads_converted`` receives: the lead, the customer it became, the contact made."""

    lead_id: int
    lead_name: str
    customer_id: int
    contact_id: int | None
    owner_id: int | None
    budget: decimal.Decimal | None
    created_customer: bool
    options: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


@dataclasses.dataclass(frozen=True)
class ConversionStep:
    """What another addon adds to the conversion page (``leads_conversion_steps``): a ticked
    step's fields come back to it as ``conversion.options[key]``. ``initial`` fills its inputs."""

    key: str
    title: Any
    template: str
    initial: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    checked: bool = True


def steps_for(ctx: Ctx, lead: Lead) -> list[ConversionStep]:
    """The installed addons' conversion steps for ``lead``, in a stable order. A step may come as
    a mapping of the same fields: an addon that does not depend on leads need not import it."""
    found = [ConversionStep(**step) if isinstance(step, Mapping) else step
             for answer in ctx.hooks.leads_conversion_steps(ctx=ctx, lead=lead) for step in (answer or [])]
    return sorted(found, key=lambda step: step.key)


def posted_options(steps: list[ConversionStep], posted: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The ticked steps' fields from a posted form: ``{key: {field: text}}``."""
    options: dict[str, dict[str, str]] = {}
    for step in steps:
        if not posted.get(step.key):
            continue
        prefix = step.key + "."
        options[step.key] = {name[len(prefix):]: str(value)[:5000] for name, value in posted.items()
                             if name.startswith(prefix)}
    return options


def convert_lead(ctx: Ctx, lead_id: int, *, customer_id: int | None = None,
                 options: Mapping[str, Any] | None = None) -> LeadConversion:
    """Convert a qualified lead the user may edit; ``customer_id`` links it to an existing
    customer (one the user may edit) instead of creating one. Returns what was made."""
    lead = get_lead(ctx, lead_id, "write")
    if lead.status == "converted":
        raise LeadConverted(name=lead.name)
    if lead.status != "qualified":
        raise LeadNotQualified(name=lead.name)
    with ctx.dbsession.begin_nested():  # all or nothing, even for a caller that goes on after a refusal
        return _convert(ctx, lead, customer_id, options or {})


def _convert(ctx: Ctx, lead: Lead, customer_id: int | None, options: Mapping[str, Any]) -> LeadConversion:
    owner_id = lead.owner_id if lead.owner_id is not None else (ctx.user.id if ctx.user else None)
    if customer_id is not None:
        customer = customers.get_customer(ctx, customer_id, "write")
    else:
        fields = {target: getattr(lead, source) for source, target in CUSTOMER_FIELDS.items()
                  if getattr(lead, source)}
        customer = customers.create_customer(ctx, name=lead.name, owner_id=owner_id, **fields)
    contact_id = None
    if lead.contact_name:
        contact = customers.add_contact(ctx, customer.id, name=lead.contact_name, mobile=lead.mobile,
                                        phone=lead.phone, email=lead.email, wechat=lead.wechat)
        contact_id = contact.id
    _carry_followups(ctx, lead, customer)
    before, plan = lead.status, plan_state(lead)
    lead.status, lead.customer_id, lead.converted_at = "converted", customer.id, ctx.now
    ctx.dbsession.flush()
    changed(ctx, "updated", lead, {"status": (before, "converted"), "customer_id": (None, customer.id)})
    announce(ctx, lead, plan)  # cancelled: the customer's own plan (carried over above) goes on
    conversion = LeadConversion(lead.id, lead.name, customer.id, contact_id, customer.owner_id, lead.budget,
                                customer_id is None, MappingProxyType(dict(options)))
    ctx.hooks.leads_converted(ctx=ctx, conversion=conversion)
    return conversion


def _carry_followups(ctx: Ctx, lead: Lead, customer: Customer) -> None:
    """The lead's follow-ups become the customer's, with their authors and times; the newest
    one's next follow-up, if still ahead, becomes the customer's follow-up plan."""
    rows = ctx.dbsession.scalars(select(LeadFollowup).where(LeadFollowup.lead_id == lead.id,
                                                            LeadFollowup.deleted_at.is_(None))
                                 .order_by(LeadFollowup.created_at, LeadFollowup.id)).all()
    copied = []
    for row in rows:
        followup = Followup(customer_id=customer.id, owner_id=row.owner_id, kind=row.kind, content=row.content,
                            next_at=row.next_at, next_step=row.next_step, created_at=row.created_at,
                            created_by=row.created_by)
        ctx.dbsession.add(followup)
        copied.append(followup)
    if not copied:
        return
    ctx.dbsession.flush()
    newest = copied[-1]
    if customer.last_followup_at is None or newest.created_at > customer.last_followup_at:
        customer.last_followup_at = newest.created_at
    if newest.next_at is not None and newest.next_at > ctx.now:
        plan_from_followup(ctx, customer, newest)
    ctx.dbsession.flush()
