"""分配 / 转移 by hand: a new owner for leads, chosen by a person rather than a rule (L3's
rules live in ``assignment``). A lead in a pool is given out only by a pool administrator; an
owned lead by whoever may edit it. The new owner is told once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from addons.customers.exceptions import UnknownChoice
from core.access.recycle import live
from core.access.scopes import scope_condition
from core.context import Ctx
from core.i18n import _
from core.models import User
from core.notifications.services import notify

from .exceptions import LeadConverted
from .models import Lead, LeadMove
from .plans import announce, plan_state
from .services import changed


def assign_leads(ctx: Ctx, lead_ids: Iterable[int], owner_id: int) -> int:
    """Give the leads the user may change to ``owner_id`` (an active user who may read leads),
    all or none: a converted lead refuses the whole batch. Returns how many changed owner. A
    lead's follow-up plan goes with it to the new owner ("moved", or "planned" out of a pool)."""
    ctx.access.require("leads.lead:write")
    owner = ctx.dbsession.get(User, owner_id)
    if owner is None or not owner.active or not ctx.access.for_user(ctx, owner).can("leads.lead:read"):
        raise UnknownChoice(value=owner_id, field=_("owner"))
    ids = list(lead_ids)
    leads = list(ctx.dbsession.scalars(select(Lead).where(Lead.id.in_(ids), live(Lead), _writable(ctx))
                                       .order_by(Lead.id)))
    for lead in leads:
        if lead.status == "converted":
            raise LeadConverted(name=lead.name)
    moved = [lead for lead in leads if lead.owner_id != owner_id]
    plans = {lead.id: plan_state(lead) for lead in moved}
    for lead in moved:
        before = lead.owner_id
        if before is None:  # out of its pool, as the pool's history shows
            ctx.dbsession.add(LeadMove(lead_id=lead.id, pool_id=lead.pool_id, action="assigned",
                                       user_id=ctx.user.id if ctx.user else None, at=ctx.now))
        lead.owner_id, lead.acquired_at = owner_id, ctx.now
        changed(ctx, "updated", lead, {"owner_id": (before, owner_id)})
    ctx.dbsession.flush()
    for lead in moved:
        announce(ctx, lead, plans[lead.id])
    _notify(ctx, moved, owner_id)
    return len(moved)


def _writable(ctx: Ctx):  # type: ignore[no-untyped-def]
    """Owned leads in the user's write scope; pool leads too for a pool administrator."""
    condition = scope_condition(ctx, Lead, "write") & Lead.owner_id.is_not(None)
    if ctx.access.can("leads.pool:admin"):
        condition = condition | Lead.owner_id.is_(None)
    return condition


def _notify(ctx: Ctx, leads: Sequence[Lead], owner_id: int) -> None:
    if not leads or (ctx.user is not None and owner_id == ctx.user.id):
        return
    actor = ctx.user.label if ctx.user is not None else "Kehu"
    if len(leads) == 1:
        message = _("${user} assigned the lead “${name}” to you.", mapping={"user": actor, "name": leads[0].name})
    else:
        message = _("${user} assigned ${count} leads to you.", mapping={"user": actor, "count": len(leads)})
    notify(ctx, [owner_id], "leads.assigned", leads[0], message,
           url=f"/leads/{leads[0].id}" if len(leads) == 1 else "/leads?view=system:mine")
