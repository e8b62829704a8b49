"""Hooks the calendar addon offers to the addons that put items on it (customers' and leads'
follow-up plans …).

How another addon puts items on the calendar: the calendar implements *that* addon's hook
(``customers_followup_planned``, ``leads_followup_planned``) and writes a task with
``source`` / ``source_id`` naming the addon's record; what a user then does to that task on the
calendar is told back through ``calendar_item_changed`` below. Neither side imports the other.
"""

from __future__ import annotations

from typing import Any

from core.plugins import hookspec


@hookspec
def calendar_item_changed(ctx: Any, change: Any) -> None:
    """Called in the writer's transaction when a user moves, completes, reopens or deletes a
    calendar item that another addon put there; ``change`` is a frozen
    ``addons.calendar.services.ItemChange`` (item_id, source — e.g. ``"customers.plan"``,
    source_id, state "moved" / "done" / "reopened" / "deleted", due_at in UTC, owner_id). Act only
    on your own ``source``; raise a ``KehuError`` to refuse, and the user's change is undone.
    Changes that the calendar applies on your behalf are not told back. Example::

        @hookimpl
        def calendar_item_changed(ctx, change):
            if change.source == "customers.plan" and change.state == "done":
                complete_plan(ctx, change.source_id)
    """
