"""Hooks the opportunities addon offers to addons that build on it (products, quotes, orders …).

Each hookspec says when it is called, what to return, and shows an example; docs/hooks.md lists
them. Only installed addons' hookimpls are called.
"""

from __future__ import annotations

from typing import Any

from core.plugins import hookspec


@hookspec
def opportunities_stage_changed(ctx: Any, opportunity: Any, before: Any, after: Any) -> None:
    """Called in the transaction of a stage move, after it is recorded and notified: ``before``
    and ``after`` are ``Stage`` rows (``after.kind`` is ``open``, ``won`` or ``lost``). An
    orders addon may draft an order when a deal is won; raise a ``KehuError`` to refuse the
    move. Example::

        @hookimpl
        def opportunities_stage_changed(ctx, opportunity, before, after):
            if after.kind == "won":
                draft_order(ctx, customer_id=opportunity.customer_id, amount=opportunity.amount)
    """


@hookspec
def opportunities_lines(ctx: Any, opportunity_ids: list[int]) -> dict[int, list[Any]]:
    """Called when opportunities are shown: the product lines your addon keeps for them, as
    ``{opportunity_id: [OpportunityLine(name, quantity, amount)]}`` (``addons.opportunities.
    lines.OpportunityLine``). While an installed addon answers, pages show the lines instead
    of the free-text "products of interest". One query for all the ids, please. Example::

        @hookimpl
        def opportunities_lines(ctx, opportunity_ids):
            return lines_by_opportunity(ctx, opportunity_ids)
    """
