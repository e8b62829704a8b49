"""Hooks the customers addon offers to addons that depend on it (leads, opportunities, calendar …).

Each hookspec says when it is called, what to return, and shows an example; docs/hooks.md lists
them beside the core's. Only installed addons' hookimpls are called, so an addon that implements
one of these without ``customers`` installed is simply never asked.
"""

from __future__ import annotations

from typing import Any

from core.plugins import hookspec


@hookspec
def customers_followup_planned(ctx: Any, plan: Any) -> None:
    """Called in the writer's transaction whenever a follow-up plan (跟进计划) is made, moved,
    done or cancelled; ``plan`` is a frozen ``addons.customers.plans.PlanEvent`` (plan_id,
    customer_id, customer_name, owner_id, due_at in UTC, title, state "planned" / "moved" /
    "done" / "cancelled", url). The calendar addon puts the plan on its owner's schedule this
    way. Example::

        @hookimpl
        def customers_followup_planned(ctx, plan):
            if plan.state == "planned":
                put_on_calendar(ctx, plan.owner_id, plan.due_at, plan.title, plan.url)
    """


@hookspec
def customers_duplicate_candidates(ctx: Any, query: Any) -> list[Any]:
    """Called by 查重 (on create, import, edit and the lookup page) with a
    ``customers.duplicates.DuplicateQuery``; return ``customers.duplicates.Duplicate`` hits from
    this addon's own records (a lead with the same mobile …); they are ranked with the addon's own
    by ``match`` and ``score``, ten at most. Hits carry only a name, its owner and where it lives —
    outside the caller's scope a masked name (``duplicates.mask_name``) and no ``url``. Example::

        @hookimpl
        def customers_duplicate_candidates(ctx, query):
            return [Duplicate(name=lead.company, owner=owner_name, kind=_("Lead"), match="mobile")
                    for lead, owner_name in leads_matching(ctx, query)]
    """


@hookspec
def customers_merged(ctx: Any, source_id: int, target_id: int) -> None:
    """Called in the merge's transaction after an admin merged customer ``source_id`` into
    ``target_id`` and before the source is deleted: move this addon's records that point at the
    source to the target (and audit them through ``kehu_record_changed``). Example::

        @hookimpl
        def customers_merged(ctx, source_id, target_id):
            for opportunity in opportunities_of(ctx, source_id):
                move_opportunity(ctx, opportunity, customer_id=target_id)
    """


@hookspec
def customers_pool_return_exempt(ctx: Any, customer_ids: list[int]) -> list[int]:
    """Called by the 公海 automatic-return job, once per pool, with the ids of the owned customers
    due to go back to the pool or to be warned; return those of them that must stay with their
    owners (an open opportunity, an unpaid order …) — they are neither returned nor warned
    this time. Example::

        @hookimpl
        def customers_pool_return_exempt(ctx, customer_ids):
            return list(ctx.dbsession.scalars(select(Opportunity.customer_id).where(
                Opportunity.customer_id.in_(customer_ids), Opportunity.state == "open")))
    """


@hookspec
def customers_value(ctx: Any, customer_ids: list[int]) -> dict[int, Any]:
    """Called by the key-customer list (重点客户) once per page with the ids of its rows: return
    ``{customer_id: Decimal}`` in yuan for the customers this addon knows a value of (open
    pipeline, orders …); the answers of several addons are summed. The list shows its "Value"
    column only while some installed addon implements this. Example::

        @hookimpl
        def customers_value(ctx, customer_ids):
            return dict(ctx.dbsession.execute(
                select(Opportunity.customer_id, func.sum(Opportunity.amount))
                .where(Opportunity.customer_id.in_(customer_ids), Opportunity.state == "open")
                .group_by(Opportunity.customer_id)).all())
    """
