"""The lead pools (线索池, L1–L2): leads without an owner, claimed in batches within limits,
returned with a reason, and returned automatically after days without a follow-up.

A pool with a department serves that department and every department below it; a pool
without one serves the whole company. Claims are race-proof the way the customers' pool is:
one conditional UPDATE per lead (``owner_id IS NULL`` and still in that pool), all or none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select, true, update

from addons.customers.pool import lock_user
from addons.customers.pool_members import departments_of
from addons.customers.services import owner_label
from core.access.exceptions import RecordNotFound
from core.access.recycle import live
from core.context import Ctx
from core.i18n import _
from core.notifications.services import notify

from .exceptions import (
    LeadAlreadyClaimed,
    LeadClaimLimitDaily,
    LeadClaimLimitOpen,
    LeadInPool,
    LeadPoolInUse,
    LeadPoolLimitInvalid,
    LeadPoolNameRequired,
    LeadPoolUnavailable,
    LeadReturnReasonRequired,
)
from .models import OPEN_STATUSES, Lead, LeadMove, LeadPool
from .plans import announce, plan_state
from .services import changed, get_lead

CLAIM = "leads.pool:claim"
ADMIN = "leads.pool:admin"
DEFAULT_ZONE = "Asia/Shanghai"
POOL_FIELDS = ("name", "department_id", "max_claims_per_day", "max_open_per_user", "return_after_days", "active")


# ---------------------------------------------------------------- pools


def seed_default_pool(ctx: Ctx) -> None:
    """The addon's data load: one company-wide pool, so a lead always has somewhere to go."""
    if ctx.dbsession.scalar(select(LeadPool.id).limit(1)) is None:
        ctx.dbsession.add(LeadPool(name="公共线索池", active=True))
        ctx.dbsession.flush()


def visible_pools_condition(ctx: Ctx) -> ColumnElement[bool]:
    """The pools the acting user sees and claims from: company-wide ones and those of their
    department or a department above it; every pool for pool admins."""
    if ctx.access.can(ADMIN):
        return true()
    return or_(LeadPool.department_id.is_(None), LeadPool.department_id.in_(departments_of(ctx.user)))


def pools_for(ctx: Ctx) -> list[LeadPool]:
    """The active pools the user sees, by name."""
    return list(ctx.dbsession.scalars(select(LeadPool).where(LeadPool.active.is_(True), visible_pools_condition(ctx))
                                      .order_by(LeadPool.name, LeadPool.id)))


def visible_pool(ctx: Ctx, pool_id: int) -> LeadPool:
    pool = ctx.dbsession.scalar(select(LeadPool).where(LeadPool.id == pool_id, LeadPool.active.is_(True),
                                                       visible_pools_condition(ctx)))
    if pool is None:
        raise LeadPoolUnavailable()
    return pool


def pool_leads_condition(ctx: Ctx) -> ColumnElement[bool]:
    """Leads without an owner in a pool the user sees: the pool list's base condition."""
    visible = select(LeadPool.id).where(LeadPool.active.is_(True), visible_pools_condition(ctx))
    return Lead.owner_id.is_(None) & Lead.pool_id.in_(visible) & live(Lead)


def pools_with_counts(ctx: Ctx) -> list[tuple[LeadPool, int]]:
    """Every pool, active ones first, each with how many leads it holds (no owner): the admin
    page's rows, in two queries however many pools there are (``leads.pool:admin``)."""
    ctx.access.require(ADMIN)
    held = dict(ctx.dbsession.execute(select(Lead.pool_id, func.count()).where(Lead.owner_id.is_(None), live(Lead))
                                      .group_by(Lead.pool_id)).all())
    pools = ctx.dbsession.scalars(select(LeadPool).order_by(LeadPool.active.desc(), LeadPool.name, LeadPool.id))
    return [(pool, held.get(pool.id, 0)) for pool in pools]


def get_pool(ctx: Ctx, pool_id: int) -> LeadPool:
    """A pool to change, active or not (``leads.pool:admin``); RecordNotFound (404) if none."""
    ctx.access.require(ADMIN)
    pool = ctx.dbsession.get(LeadPool, pool_id)
    if pool is None:
        raise RecordNotFound()
    return pool


def save_pool(ctx: Ctx, pool_id: int | None = None, **fields: Any) -> LeadPool:
    """Create or change a pool (``leads.pool:admin``). A pool that still holds leads, or the
    last active pool, stays active."""
    ctx.access.require(ADMIN)
    values = {field: value for field, value in fields.items() if field in POOL_FIELDS}
    name = (values.get("name") or "").strip() if "name" in values or pool_id is None else None
    if name is not None:
        if not name or len(name) > 100:
            raise LeadPoolNameRequired()
        values["name"] = name
    for field in ("max_claims_per_day", "max_open_per_user", "return_after_days"):
        if field in values:
            values[field] = _limit(values[field])
    pool = LeadPool(active=True) if pool_id is None else ctx.dbsession.get(LeadPool, pool_id)
    if pool is None:
        raise LeadPoolUnavailable()
    if pool_id is not None and values.get("active") is False and pool.active:
        held = ctx.dbsession.scalar(select(func.count()).select_from(Lead).where(
            Lead.pool_id == pool.id, Lead.owner_id.is_(None), live(Lead)))
        others = ctx.dbsession.scalar(select(func.count()).select_from(LeadPool).where(
            LeadPool.active.is_(True), LeadPool.id != pool.id))
        if held or not others:
            raise LeadPoolInUse(pool=pool.name, count=held)
    changes = {field: (getattr(pool, field, None) if pool_id is not None else None, value)
               for field, value in values.items() if pool_id is None or getattr(pool, field) != value}
    for field, (_before, after) in changes.items():
        setattr(pool, field, after)
    if pool_id is None:
        ctx.dbsession.add(pool)
    ctx.dbsession.flush()
    if changes:
        changed(ctx, "created" if pool_id is None else "updated", pool, changes)
    return pool


# ---------------------------------------------------------------- claim


def claim_leads(ctx: Ctx, lead_ids: Iterable[int]) -> list[Lead]:
    """领取 one or many leads from the pools the user sees, all or none (L2). Checks each pool's
    daily claim limit and its most open leads per person, then claims each lead with a
    conditional UPDATE: of two people claiming at once exactly one wins, the other is told who
    has it. A claimed lead with a next follow-up has a plan again ("planned")."""
    ctx.access.require(CLAIM)
    if ctx.user is None:
        raise LeadPoolUnavailable()
    user_id = ctx.user.id
    ids = sorted({int(i) for i in lead_ids})
    rows = {row.id: row for row in ctx.dbsession.execute(
        select(Lead.id, Lead.name, Lead.owner_id, Lead.pool_id).where(Lead.id.in_(ids), live(Lead)))}
    pools = {pool.id: pool for pool in pools_for(ctx)}
    lock_user(ctx, user_id)  # one person's two requests must not both count "9 of 10"
    by_pool: dict[int, list[Any]] = {}
    for lead_id in ids:
        row = rows.get(lead_id)
        if row is None or row.pool_id not in pools:
            raise LeadPoolUnavailable()
        if row.owner_id is not None:
            raise LeadAlreadyClaimed(name=row.name, owner=owner_label(ctx, row.owner_id))
        by_pool.setdefault(row.pool_id, []).append(row)
    for pool_id, group in by_pool.items():
        _check_limits(ctx, pools[pool_id], len(group), user_id)
    for lead_id in ids:
        row = rows[lead_id]
        won = ctx.dbsession.execute(
            update(Lead).where(Lead.id == row.id, Lead.owner_id.is_(None), Lead.pool_id == row.pool_id)
            .values(owner_id=user_id, acquired_at=ctx.now, updated_at=ctx.now, updated_by=user_id)
            .execution_options(synchronize_session=False))
        if won.rowcount != 1:
            owner = ctx.dbsession.scalar(select(Lead.owner_id).where(Lead.id == row.id))
            raise LeadAlreadyClaimed(name=row.name, owner=owner_label(ctx, owner))
        ctx.dbsession.add(LeadMove(lead_id=row.id, pool_id=row.pool_id, action="claimed", user_id=user_id,
                                   at=ctx.now))
        changed(ctx, "updated", _Ref(row.id), {"owner_id": (None, user_id)})
    ctx.dbsession.flush()
    claimed = list(ctx.dbsession.scalars(select(Lead).where(Lead.id.in_(ids)).order_by(Lead.id)
                                         .execution_options(populate_existing=True)))
    for lead in claimed:  # in a pool, no lead had a plan: one with a next follow-up has one now
        announce(ctx, lead, None)
    return claimed


def _check_limits(ctx: Ctx, pool: LeadPool, wanted: int, user_id: int) -> None:
    if pool.max_claims_per_day is not None:
        claimed = ctx.dbsession.scalar(select(func.count()).select_from(LeadMove).where(
            LeadMove.user_id == user_id, LeadMove.action == "claimed", LeadMove.pool_id == pool.id,
            LeadMove.at >= _day_start(ctx)))
        if claimed + wanted > pool.max_claims_per_day:
            raise LeadClaimLimitDaily(limit=pool.max_claims_per_day, claimed=claimed,
                                      left=max(0, pool.max_claims_per_day - claimed), pool=pool.name)
    if pool.max_open_per_user is not None:
        held = ctx.dbsession.scalar(select(func.count()).select_from(Lead).where(
            Lead.owner_id == user_id, Lead.status.in_(OPEN_STATUSES), live(Lead)))
        if held + wanted > pool.max_open_per_user:
            raise LeadClaimLimitOpen(limit=pool.max_open_per_user, open=held,
                                     left=max(0, pool.max_open_per_user - held), pool=pool.name)


# ---------------------------------------------------------------- return


def return_lead(ctx: Ctx, lead_id: int, pool_id: int, reason: str) -> Lead:
    """退回 a lead to a pool the user sees, with a reason (L2): the owner, or whoever may edit it."""
    reason = (reason or "").strip()
    if not reason:
        raise LeadReturnReasonRequired()
    lead = get_lead(ctx, lead_id, "write")
    if lead.owner_id is None:
        raise LeadInPool(name=lead.name)
    _release(ctx, lead, visible_pool(ctx, pool_id), "returned", reason[:500])
    return lead


def _release(ctx: Ctx, lead: Lead, pool: LeadPool, action: str, reason: str | None) -> None:
    """Into ``pool``, without an owner: its follow-up plan, if any, is cancelled (the next
    follow-up stays on the lead, for whoever claims it)."""
    previous, before_pool, before = lead.owner_id, lead.pool_id, plan_state(lead)
    lead.owner_id, lead.pool_id, lead.acquired_at = None, pool.id, None
    ctx.dbsession.add(LeadMove(lead_id=lead.id, pool_id=pool.id, action=action,
                               user_id=ctx.user.id if ctx.user else None, previous_owner_id=previous,
                               reason=reason, at=ctx.now))
    ctx.dbsession.flush()
    changed(ctx, "updated", lead, {"owner_id": (previous, None), "pool_id": (before_pool, pool.id)})
    announce(ctx, lead, before)


def auto_return_due(ctx: Ctx) -> dict[str, int]:
    """The periodic job: an open lead of a pool with ``return_after_days`` goes back to that
    pool when nobody followed it up for that many days since it was acquired — the clock is
    max(last follow-up, acquired). Its owner is told. Returns how many went back."""
    returned = 0
    pools = ctx.dbsession.scalars(select(LeadPool).where(LeadPool.active.is_(True),
                                                         LeadPool.return_after_days.is_not(None))).all()
    for pool in pools:
        cutoff = ctx.now - dt.timedelta(days=pool.return_after_days or 0)
        # the clock max(last follow-up, acquired) is before the cutoff ⇔ both are
        due = ctx.dbsession.scalars(select(Lead).where(
            Lead.pool_id == pool.id, Lead.owner_id.is_not(None), Lead.status.in_(OPEN_STATUSES), live(Lead),
            Lead.acquired_at < cutoff, or_(Lead.last_followup_at.is_(None), Lead.last_followup_at < cutoff))
            .order_by(Lead.id).limit(1000)).all()
        for lead in due:
            owner_id = lead.owner_id
            _release(ctx, lead, pool, "auto_returned", None)
            notify(ctx, [owner_id], "leads.returned", lead,
                   _("“${name}” went back to the pool “${pool}”: nobody followed it up for ${days} days.",
                     mapping={"name": lead.name, "pool": pool.name, "days": pool.return_after_days}),
                   url=f"/leads/{lead.id}")
            returned += 1
    return {"returned": returned}


# ---------------------------------------------------------------- helpers


class _Ref:
    """A lead known by id only, for the audit of a bulk claim."""

    __tablename__ = Lead.__tablename__

    def __init__(self, record_id: int) -> None:
        self.id = record_id


def _limit(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise LeadPoolLimitInvalid() from None
    if not 1 <= number <= 10_000:
        raise LeadPoolLimitInvalid()
    return number


def _day_start(ctx: Ctx) -> dt.datetime:
    """Midnight of today in the user's time zone, in UTC: "per day" is the user's day."""
    zone = ZoneInfo(getattr(ctx.user, "timezone", None) or DEFAULT_ZONE)
    return dt.datetime.combine(ctx.now.astimezone(zone).date(), dt.time(), tzinfo=zone).astimezone(dt.UTC)
