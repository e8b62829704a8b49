"""团队成员: colleagues who help with a customer (D-SCOPE). A member reads the customer and
everything under it, a read-write member also edits it, until the membership's end date;
neither may delete, export or assign it. The access itself is the core's (``core.access.members``):
these functions are the rules of who may change a team and what is told and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.access.members import Member, members_of, remove_member, set_member
from core.access.scopes import get_in_scope
from core.context import Ctx
from core.contributions import RecordChange
from core.i18n import _
from core.models import User
from core.notifications.services import notify

from .exceptions import OwnerIsNotAMember, UnknownChoice
from .models import Customer


def team_of(ctx: Ctx, customer: Customer) -> list[Member]:
    return members_of(ctx, customer)


def add_team_member(ctx: Ctx, customer_id: int, user_id: int, *, can_write: bool = False,
                    until: dt.datetime | None = None) -> Member:
    """Put a colleague on the customer's team (or change their rights). Whoever may edit the
    customer may do it; the new member is told."""
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    user = ctx.dbsession.get(User, user_id)
    if user is None or not user.active:
        raise UnknownChoice(value=user_id, field=_("team member"))
    if user.id == customer.owner_id:
        raise OwnerIsNotAMember()
    member, created = set_member(ctx, customer, user.id, can_write=can_write, until=until)
    _changed(ctx, customer, {"team": (None if created else user.label, _describe(user, member.can_write, until))})
    if created and user.id != (ctx.user.id if ctx.user else None):
        message = _("${user} added you to the team of “${name}”.",
                    mapping={"user": ctx.user.label if ctx.user else "Kehu", "name": customer.name})
        notify(ctx, [user.id], "customers.team_added", customer, message, url=f"/customers/{customer.id}")
    return next(m for m in members_of(ctx, customer) if m.user_id == user.id)


def remove_team_member(ctx: Ctx, customer_id: int, user_id: int) -> bool:
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    user = ctx.dbsession.get(User, user_id)
    removed = remove_member(ctx, customer, user_id)
    if removed:
        _changed(ctx, customer, {"team": (user.label if user else str(user_id), None)})
    return removed


def _describe(user: User, can_write: bool, until: dt.datetime | None) -> str:
    rights = "read-write" if can_write else "read-only"
    return f"{user.label} ({rights}{', until ' + until.date().isoformat() if until else ''})"


def _changed(ctx: Ctx, customer: Customer, changes: dict[str, tuple[Any, Any]]) -> None:
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        "updated", customer.__tablename__, customer.id, changes,
        user_id=ctx.user.id if ctx.user else None, at=ctx.now))
