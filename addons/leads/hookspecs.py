"""Hooks the leads addon offers to addons that depend on it or cooperate with it
(opportunities, calendar …).

Each hookspec says when it is called, what to return, and shows an example; docs/hooks.md lists
them beside the core's and the customers addon's. Only installed addons' hookimpls are called:
an addon installed later joins the conversion from its next request, without a restart.
"""

from __future__ import annotations

from typing import Any

from core.plugins import hookspec


@hookspec
def leads_converted(ctx: Any, conversion: Any) -> None:
    """Called in the conversion's transaction after a lead became a customer (L4), with a frozen
    ``addons.leads.conversion.LeadConversion`` (lead_id, lead_name, customer_id, contact_id,
    owner_id, budget, created_customer, options). ``options`` holds what the user asked of
    other addons on the conversion form, by addon (``options.get("opportunity")``). Write your
    own records; raise a ``KehuError`` to refuse, and the whole conversion is undone. Example::

        @hookimpl
        def leads_converted(ctx, conversion):
            wanted = conversion.options.get("opportunity")
            if wanted:
                create_opportunity(ctx, customer_id=conversion.customer_id, title=wanted["title"],
                                   amount=wanted.get("amount", conversion.budget))
    """


@hookspec
def leads_conversion_steps(ctx: Any, lead: Any) -> list[Any]:
    """Called when the conversion page of ``lead`` is shown: the steps your addon adds to it, as
    ``addons.leads.conversion.ConversionStep``s or mappings of its fields (key, title,
    template, initial, checked) — an addon that does not depend on leads need not import it. The
    step's ``template`` is rendered inside the form with ``step`` and ``lead``; its inputs are
    named ``<key>.<field>`` and a checkbox named ``<key>`` turns the step on. What a ticked step
    posted reaches ``leads_converted`` as ``conversion.options[key]`` (a dict of strings):
    check it there and raise a ``KehuError`` to refuse the whole conversion. Example::

        @hookimpl
        def leads_conversion_steps(ctx, lead):
            if not ctx.access.can("opportunities.opportunity:create"):
                return []
            return [ConversionStep("opportunity", _("Open an opportunity"),
                                   "addons.opportunities:templates/opportunities/convert_step.jinja2",
                                   {"title": lead.name, "amount": lead.budget})]
    """


@hookspec
def leads_followup_planned(ctx: Any, plan: Any) -> None:
    """Called in the writer's transaction whenever a lead's next follow-up — its one follow-up
    plan — is made, moved, done or cancelled: set or changed on the lead, by a follow-up, by a
    claim, return or assignment, by conversion, disqualification or deletion. ``plan`` is a
    frozen ``addons.leads.plans.LeadPlanEvent`` (plan_id = lead_id, lead_name, owner_id, due_at
    in UTC, title, state "planned" / "moved" / "done" / "cancelled", url). The calendar addon
    puts the plan on its owner's schedule this way. Example::

        @hookimpl
        def leads_followup_planned(ctx, plan):
            if plan.state in ("planned", "moved"):
                put_on_calendar(ctx, plan.owner_id, plan.due_at, plan.title, plan.url)
    """
