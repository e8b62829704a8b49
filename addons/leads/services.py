"""Every rule about leads and their follow-ups: permission checks, validation, writes, audit
(through ``kehu_record_changed``). Views, imports, the API and demo data call these functions.
What a change does to a lead's next follow-up — the plan the calendar shows — is told through
``leads_followup_planned`` (``plans.announce``), here and wherever else an owner changes.

Leads share the customers addon's lists (source, level, industry), its name normalisation and
its mobile-number check: a lead becomes a customer, so both must speak the same values.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from addons.customers import choices
from addons.customers.exceptions import ContentRequired, MobileInvalid, UnknownChoice
from addons.customers.names import normalise_company_name, valid_mobile
from addons.customers.services import FOLLOWUP_KINDS
from core.access.exceptions import RecordNotFound
from core.access.scopes import get_in_scope, scope_condition
from core.changes import record_changed as changed
from core.context import Ctx
from core.customfields.services import set_values
from core.i18n import _
from core.models import User

from .exceptions import (
    BudgetInvalid,
    LeadConverted,
    LeadFieldTooLong,
    LeadNameRequired,
    LeadPoolUnavailable,
    NurtureDaysInvalid,
    StatusUnknown,
)
from .models import STATUSES, Lead, LeadFollowup
from .plans import announce, plan_state

#: What a form, an import or the API may set on a lead (the owner goes through the pool).
LEAD_FIELDS = ("name", "contact_name", "mobile", "phone", "email", "wechat", "address", "province", "city",
               "source", "industry", "level", "requirement", "budget", "status", "remarks", "next_followup_at",
               "nurture_days")
LIMITS = {"name": 200, "contact_name": 100, "phone": 30, "email": 200, "wechat": 100, "address": 300,
          "province": 50, "city": 50, "requirement": 5000, "remarks": 5000}
MAX_BUDGET = decimal.Decimal("999999999999.99")
#: 培育: the cadence a lead gets when it enters nurture without one, and the bounds of any.
NURTURE_DAYS = 30
NURTURE_RANGE = (1, 365)


# ---------------------------------------------------------------- leads


def create_lead(ctx: Ctx, *, name: str, owner_id: int | None = None, pool_id: int | None = None,
                assign: bool = False, custom: dict[str, Any] | None = None,
                tags: str | Iterable[str] | None = None, **fields: Any) -> Lead:
    """A new lead owned by ``owner_id`` (default: the acting user), or put straight into a lead
    pool when ``pool_id`` is given (an import into the pool, a web form's lead). With
    ``assign`` the assignment rules give it an owner (L3); one no rule takes stays in the pool
    (``pool_id``, or the first pool the user sees). ``custom`` values (``{"cf_<id>": value}``)
    are saved before the rules run, so a rule may look at them; ``tags`` ("重点, 展会" or a
    list) are checked before anything is written. A lead created in nurture is due for
    follow-up in ``nurture_days`` (default 30)."""
    ctx.access.require("leads.lead:create")
    from . import tags as lead_tags  # tags build on leads, not the other way round

    values = _clean(ctx, dict(fields, name=name))
    names = lead_tags.check_names(tags) if tags is not None else []
    _plan_nurture(ctx, None, values)
    lead = Lead(status="new")
    if assign and pool_id is None:
        from .pool import pools_for

        pool_id = next((p.id for p in pools_for(ctx)), None)
        if pool_id is None:
            raise LeadPoolUnavailable()
    if pool_id is not None:
        from .pool import visible_pool  # the pool builds on leads, not the other way round

        lead.pool_id, lead.owner_id = visible_pool(ctx, pool_id).id, None
    else:
        lead.owner_id = owner_id if owner_id is not None else _user_id(ctx)
        lead.acquired_at = ctx.now
    for field, value in values.items():
        setattr(lead, field, value)
    lead.name_key = normalise_company_name(lead.name)
    ctx.dbsession.add(lead)
    ctx.dbsession.flush()
    changes = {field: (None, value) for field, value in values.items()}
    changes["owner_id" if lead.owner_id else "pool_id"] = (None, lead.owner_id or lead.pool_id)
    if names:
        written = lead_tags.write_tags(ctx, lead, names)
        if written is not None:
            changes["tags"] = (None, written[1])
    changed(ctx, "created", lead, changes)
    if custom:
        set_values(ctx, lead, custom, creating=True)
    announce(ctx, lead, None)
    if assign:  # the rule's owner is announced by the assignment
        from .assignment import assign_by_rules

        assign_by_rules(ctx, lead)
    return lead


def get_lead(ctx: Ctx, lead_id: int, action: str = "read") -> Lead:
    """The lead, or RecordNotFound (404) outside the user's scope for ``action``. A lead in one
    of the user's pools may be read (to decide whether to claim it) by whoever may claim."""
    if action == "read" and ctx.access.can("leads.pool:claim"):
        from .pool import pool_leads_condition  # the pool builds on leads, not the other way round

        found = ctx.dbsession.scalar(select(Lead).where(
            Lead.id == lead_id, or_(scope_condition(ctx, Lead, "read"), pool_leads_condition(ctx))))
        if found is None:
            raise RecordNotFound()
        return found
    return get_in_scope(ctx, Lead, lead_id, action)


def update_lead(ctx: Ctx, lead_id: int, *, tags: str | Iterable[str] | None = None, **fields: Any) -> Lead:
    """Change a lead's fields (not its owner: claim, return and assignment do that) and, when
    ``tags`` is given, exactly those tags ("" removes them all). A converted lead is read-only.
    A lead entering nurture is due for follow-up in ``nurture_days`` (default 30) unless an
    explicit ``next_followup_at`` is given; a new cadence while in nurture counts from the
    last follow-up."""
    lead = get_lead(ctx, lead_id, "write")
    _writable(lead)
    from . import tags as lead_tags  # tags build on leads, not the other way round

    before = plan_state(lead)
    values = _clean(ctx, fields, current=lead)
    names = lead_tags.check_names(tags) if tags is not None else None
    _plan_nurture(ctx, lead, values)
    changes = {field: (getattr(lead, field), value) for field, value in values.items()
               if getattr(lead, field) != value}
    for field, (_before, after) in changes.items():
        setattr(lead, field, after)
    if "name" in changes:
        lead.name_key = normalise_company_name(lead.name)
    ctx.dbsession.flush()
    written = lead_tags.write_tags(ctx, lead, names) if names is not None else None
    if written is not None:
        if not changes:  # tags alone: still a new version of the lead (the API's ETag)
            lead.updated_at = ctx.now
            ctx.dbsession.flush()
        changes["tags"] = written
    if changes:
        changed(ctx, "updated", lead, changes)
    announce(ctx, lead, before)
    return lead


def delete_lead(ctx: Ctx, lead_id: int) -> None:
    """Into the recycle bin (``leads.lead:delete``, within the delete scope); audited, and its
    follow-up plan cancelled."""
    lead = get_lead(ctx, lead_id, "delete")
    before = plan_state(lead)
    lead.deleted_at, lead.deleted_by = ctx.now, _user_id(ctx)
    ctx.dbsession.flush()
    changed(ctx, "deleted", lead, {"deleted_at": (None, ctx.now)})
    announce(ctx, lead, before)


def leads_in_scope(ctx: Ctx, action: str = "read") -> Any:
    """``select(Lead)`` limited to the user's scope: what lists, counts and charts start from."""
    return select(Lead).where(scope_condition(ctx, Lead, action))


# ---------------------------------------------------------------- follow-ups


def add_followup(ctx: Ctx, lead_id: int, *, kind: str, content: str, next_at: dt.datetime | None = None,
                 next_step: str | None = None) -> LeadFollowup:
    """快速跟进 on a lead, with the customers' kinds: the lead's last follow-up becomes now, its
    next one ``next_at`` (for a lead in nurture without one: now + its ``nurture_days``), and a
    new lead starts being worked (contacting)."""
    ctx.access.require("leads.followup:create")
    lead = get_lead(ctx, lead_id, "read")
    _writable(lead)
    content = (content or "").strip()
    if not content:
        raise ContentRequired()
    if len(content) > LIMITS["remarks"]:
        raise LeadFieldTooLong(field=_("Content"), limit=LIMITS["remarks"])
    next_step = (next_step or "").strip() or None
    if next_step is not None and len(next_step) > 200:
        raise LeadFieldTooLong(field=_("Next step"), limit=200)
    if kind not in FOLLOWUP_KINDS:
        raise UnknownChoice(value=kind, field=_("type"))
    before = plan_state(lead)
    followup = LeadFollowup(lead_id=lead.id, owner_id=_user_id(ctx), kind=kind, content=content,
                            next_at=next_at, next_step=next_step)
    ctx.dbsession.add(followup)
    changes: dict[str, tuple[Any, Any]] = {"last_followup_at": (lead.last_followup_at, ctx.now)}
    lead.last_followup_at = ctx.now
    if next_at is None and lead.status == "nurture":  # 培育: the cadence sets the next one
        next_at = ctx.now + dt.timedelta(days=lead.nurture_days or NURTURE_DAYS)
    if next_at is not None and next_at != lead.next_followup_at:
        changes["next_followup_at"] = (lead.next_followup_at, next_at)
        lead.next_followup_at = next_at
    if lead.status == "new":
        changes["status"] = ("new", "contacting")
        lead.status = "contacting"
    ctx.dbsession.flush()
    changed(ctx, "created", followup, {"kind": (None, kind), "content": (None, content)})
    changed(ctx, "updated", lead, changes)
    announce(ctx, lead, before, followed_up=True)
    return followup


def list_followups(ctx: Ctx, lead_id: int, limit: int = 50) -> list[LeadFollowup]:
    """The lead's follow-ups, whoever wrote them, newest first (the lead itself is in scope)."""
    lead = get_lead(ctx, lead_id, "read")
    return list(ctx.dbsession.scalars(
        select(LeadFollowup).where(LeadFollowup.lead_id == lead.id, LeadFollowup.deleted_at.is_(None))
        .options(selectinload(LeadFollowup.owner).lazyload(User.roles))
        .order_by(LeadFollowup.created_at.desc(), LeadFollowup.id.desc()).limit(limit)))


# ---------------------------------------------------------------- helpers


def _clean(ctx: Ctx, values: dict[str, Any], current: Lead | None = None) -> dict[str, Any]:
    """Checked, normalised values; raises the first problem before anything is written."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field not in LEAD_FIELDS:
            raise TypeError(f"unknown lead field {field!r}")
        if isinstance(value, str):
            value = value.strip() or None
        if isinstance(value, str) and field in LIMITS and len(value) > LIMITS[field]:
            raise LeadFieldTooLong(field=Lead.__table__.c[field].info["label"], limit=LIMITS[field])
        out[field] = value
    if ("name" in out or current is None) and not out.get("name"):
        raise LeadNameRequired()
    if out.get("mobile"):
        number = valid_mobile(out["mobile"])
        if number is None:
            raise MobileInvalid(number=out["mobile"])
        out["mobile"] = number
    if "budget" in out:
        out["budget"] = _budget(out["budget"])
    if "status" in out:
        status = out["status"] or "new"
        if status not in STATUSES or status == "converted":  # converting is its own step (L4)
            raise StatusUnknown(status=status)
        out["status"] = status
    if out.get("level"):
        out["level"] = out["level"].upper()
    if "nurture_days" in out:
        out["nurture_days"] = _nurture_days(out["nurture_days"])
    choices.check_values(ctx, out, current)
    return out


def _nurture_days(value: Any) -> int | None:
    """1–365 (a whole number, as text or a number), or None; NurtureDaysInvalid otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise NurtureDaysInvalid()
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise NurtureDaysInvalid()
        value = int(value)
    if not isinstance(value, int) or not NURTURE_RANGE[0] <= value <= NURTURE_RANGE[1]:
        raise NurtureDaysInvalid()
    return value


def _plan_nurture(ctx: Ctx, lead: Lead | None, values: dict[str, Any]) -> None:
    """培育 (nurture): add to ``values`` what the status implies. A lead in nurture always has a
    cadence (``NURTURE_DAYS`` unless one is given); entering nurture without an explicit next
    follow-up sets it to now + the cadence; a new cadence while in nurture counts from the
    last follow-up (or now)."""
    status = values.get("status") or (lead.status if lead is not None else "new")
    if status != "nurture":
        return
    current = lead.nurture_days if lead is not None else None
    days = values.get("nurture_days", current) or NURTURE_DAYS
    if days != current:
        values["nurture_days"] = days
    if values.get("next_followup_at") is not None:
        return  # an explicit next time wins
    if lead is None or lead.status != "nurture":
        values["next_followup_at"] = ctx.now + dt.timedelta(days=days)
    elif days != current:
        values["next_followup_at"] = (lead.last_followup_at or ctx.now) + dt.timedelta(days=days)


def _budget(value: Any) -> decimal.Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = decimal.Decimal(str(value).replace(",", ""))
    except decimal.InvalidOperation:
        raise BudgetInvalid() from None
    if not amount.is_finite() or amount < 0 or amount > MAX_BUDGET:
        raise BudgetInvalid()
    return amount.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)


def _writable(lead: Lead) -> None:
    if lead.status == "converted":
        raise LeadConverted(name=lead.name)


def _user_id(ctx: Ctx) -> int | None:
    return ctx.user.id if ctx.user is not None else None
