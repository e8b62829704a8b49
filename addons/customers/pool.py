"""The public pool (公海, D-POOL / D-CLAIM / D-RETURN): claiming, returning, automatic return
with its warning, and who sees which pool. Every move is a ``PoolMove`` row (the reclaim block,
the claims-per-day count and the customer's timeline read it) and an audited record change.

Visibility is by membership (``pool_members``): a pool's member users and departments (and the
departments below them) see it, a pool naming nobody is company-wide; ``customers.pool:admin``
sees them all. Per-level return days live in ``pool_rules``, locking in ``pool_lock``,
assignment by a pool manager in ``pool_assign``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, or_, select, update

from core.access.exceptions import RecordNotFound
from core.access.recycle import live
from core.access.scopes import get_in_scope, scope_condition
from core.context import Ctx
from core.contributions import RecordChange
from core.i18n import _
from core.models import User
from core.notifications.services import notify

from .exceptions import (
    AlreadyClaimed,
    AlreadyInPool,
    ClaimLimitDaily,
    ClaimLimitOwned,
    PoolUnavailable,
    ReasonRequired,
    ReclaimBlocked,
)
from .models import Contact, Customer, Pool, PoolMove, PoolRule
from .pool_members import visible_pools_condition
from .pool_rules import days_for, rules_by_pool
from .services import owner_label

RETURNS = ("returned", "auto_returned")
DEFAULT_ZONE = "Asia/Shanghai"


# ---------------------------------------------------------------- visibility


def pools_for(ctx: Ctx) -> list[Pool]:
    """The active pools the user sees, by name."""
    return list(ctx.dbsession.scalars(select(Pool).where(Pool.active.is_(True), visible_pools_condition(ctx))
                                      .order_by(Pool.name, Pool.id)))


def pool_customers_condition(ctx: Ctx) -> ColumnElement[bool]:
    """Customers without an owner in a pool the user sees: the pool list's base condition."""
    visible = select(Pool.id).where(Pool.active.is_(True), visible_pools_condition(ctx))
    return Customer.owner_id.is_(None) & Customer.pool_id.in_(visible) & live(Customer)


def get_customer(ctx: Ctx, customer_id: int) -> Customer:
    """A customer to read: in the user's scope, or in one of the user's pools (else 404)."""
    visible = or_(scope_condition(ctx, Customer, "read"), pool_customers_condition(ctx))
    customer = ctx.dbsession.scalar(select(Customer).where(Customer.id == customer_id, visible))
    if customer is None:
        raise RecordNotFound()
    return customer


# ---------------------------------------------------------------- admin


POOL_FIELDS = ("name", "department_id", "max_owned", "max_claims_per_day", "reclaim_block_days",
               "return_after_days_without_followup", "return_after_days_without_deal", "warn_days_before", "active",
               "max_locked")


def save_pool(ctx: Ctx, pool_id: int | None = None, **fields: Any) -> Pool:
    """Create (``pool_id`` None) or change a pool's rules; audited like every record."""
    ctx.access.require("customers.pool:admin")
    pool = Pool(reclaim_block_days=0, warn_days_before=0, active=True) if pool_id is None \
        else ctx.dbsession.get(Pool, pool_id)
    if pool is None:
        raise PoolUnavailable()
    changes = {}
    for field, value in fields.items():
        if field not in POOL_FIELDS:
            raise TypeError(f"unknown pool field {field!r}")
        if field in ("reclaim_block_days", "warn_days_before"):
            value = value or 0
        if getattr(pool, field) != value:
            changes[field] = (getattr(pool, field), value)
            setattr(pool, field, value)
    ctx.dbsession.add(pool)
    ctx.dbsession.flush()
    if changes:
        record_change(ctx, "created" if pool_id is None else "updated", "customers_pool", pool.id, changes)
    return pool


# ---------------------------------------------------------------- claim


def claim_from_pool(ctx: Ctx, customer_ids: Iterable[int]) -> list[Customer]:
    """领取 one or many customers, all or none. Checks, in order (D-CLAIM): the most customers one
    may own, the claims per day, the previous owner's reclaim block. The claim itself is one
    conditional UPDATE per customer (``owner_id IS NULL`` and still in its pool), so of two
    people claiming at once exactly one changes the row and the other gets AlreadyClaimed."""
    ctx.access.require("customers.pool:claim")
    if ctx.user is None:
        raise PoolUnavailable()
    user_id = ctx.user.id
    ids = sorted({int(i) for i in customer_ids})
    rows = {row.id: row for row in ctx.dbsession.execute(
        select(Customer.id, Customer.name, Customer.owner_id, Customer.pool_id).where(Customer.id.in_(ids),
                                                                                     live(Customer)))}
    pools = {pool.id: pool for pool in pools_for(ctx)}
    lock_user(ctx, user_id)
    by_pool: dict[int, list[Any]] = {}
    for customer_id in ids:
        row = rows.get(customer_id)
        if row is None or row.pool_id not in pools:
            raise PoolUnavailable()
        if row.owner_id is not None:
            raise AlreadyClaimed(name=row.name, owner=owner_label(ctx, row.owner_id))
        by_pool.setdefault(row.pool_id, []).append(row)
    for pool_id, group in by_pool.items():
        check_claim_limits(ctx, pools[pool_id], group, user_id)
    for customer_id in ids:
        row = rows[customer_id]
        won = ctx.dbsession.execute(
            update(Customer).where(Customer.id == row.id, Customer.owner_id.is_(None), Customer.pool_id == row.pool_id)
            .values(owner_id=user_id, acquired_at=ctx.now, updated_at=ctx.now, updated_by=user_id)
            .execution_options(synchronize_session=False))
        if won.rowcount != 1:
            owner = ctx.dbsession.scalar(select(Customer.owner_id).where(Customer.id == row.id))
            raise AlreadyClaimed(name=row.name, owner=owner_label(ctx, owner))
        ctx.dbsession.execute(update(Contact).where(Contact.customer_id == row.id).values(owner_id=user_id)
                              .execution_options(synchronize_session=False))
        ctx.dbsession.add(PoolMove(customer_id=row.id, pool_id=row.pool_id, action="claimed", user_id=user_id,
                                   at=ctx.now))
        record_change(ctx, "updated", "customers_customer", row.id, {"owner_id": (None, user_id)})
    ctx.dbsession.flush()
    return list(ctx.dbsession.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
                                      .execution_options(populate_existing=True)))


def lock_user(ctx: Ctx, user_id: int) -> None:
    """Serialise one user's claims (and locks): two requests of the same person must not both
    count "9 of 10" and take one more each. PostgreSQL locks the user's row until the
    transaction ends (the second request then counts what the first wrote); SQLite has one
    writer at a time already, and a transaction that read before another wrote cannot write."""
    ctx.dbsession.execute(select(User.id).where(User.id == user_id).with_for_update())


def check_claim_limits(ctx: Ctx, pool: Pool, rows: list[Any], user_id: int) -> None:
    """The pool's three limits for claiming ``rows`` (id, name), each with its own message."""
    wanted = len(rows)
    if pool.max_owned is not None:
        owned = ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == user_id))
        if owned + wanted > pool.max_owned:
            raise ClaimLimitOwned(limit=pool.max_owned, owned=owned, left=max(0, pool.max_owned - owned),
                                  pool=pool.name)
    if pool.max_claims_per_day is not None:
        claimed = ctx.dbsession.scalar(select(func.count()).select_from(PoolMove).where(
            PoolMove.user_id == user_id, PoolMove.action == "claimed", PoolMove.pool_id == pool.id,
            PoolMove.at >= _day_start(ctx)))
        if claimed + wanted > pool.max_claims_per_day:
            raise ClaimLimitDaily(limit=pool.max_claims_per_day, claimed=claimed,
                                  left=max(0, pool.max_claims_per_day - claimed), pool=pool.name)
    if pool.reclaim_block_days:
        since = ctx.now - dt.timedelta(days=pool.reclaim_block_days)
        names = {row.id: row.name for row in rows}
        last = ctx.dbsession.execute(
            select(PoolMove.customer_id, func.max(PoolMove.at)).where(
                PoolMove.customer_id.in_(list(names)), PoolMove.previous_owner_id == user_id,
                PoolMove.action.in_(RETURNS), PoolMove.at > since)
            .group_by(PoolMove.customer_id).order_by(PoolMove.customer_id)).first()
        if last is not None:
            until = last[1] + dt.timedelta(days=pool.reclaim_block_days)
            raise ReclaimBlocked(name=names[last[0]], days=pool.reclaim_block_days,
                                 until=until.astimezone(_zone(ctx)).strftime("%Y-%m-%d %H:%M"))


# ---------------------------------------------------------------- return


def return_to_pool(ctx: Ctx, customer_id: int, pool_id: int, reason: str) -> Customer:
    """放入公海 with a reason: the owner, or whoever may change the customer, picks the pool."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    if customer.owner_id is None:
        raise AlreadyInPool(name=customer.name)
    pool = ctx.dbsession.scalar(select(Pool).where(Pool.id == pool_id, Pool.active.is_(True),
                                                   visible_pools_condition(ctx)))
    if pool is None:
        raise PoolUnavailable()
    _release(ctx, customer, pool, "returned", reason)
    return customer


def _release(ctx: Ctx, customer: Customer, pool: Pool, action: str, reason: str | None) -> None:
    previous, before_pool, was_locked = customer.owner_id, customer.pool_id, customer.locked
    customer.owner_id, customer.pool_id, customer.acquired_at, customer.locked = None, pool.id, None, False
    ctx.dbsession.execute(update(Contact).where(Contact.customer_id == customer.id).values(owner_id=None)
                          .execution_options(synchronize_session="fetch"))
    ctx.dbsession.add(PoolMove(customer_id=customer.id, pool_id=pool.id, action=action,
                               user_id=ctx.user.id if ctx.user else None, previous_owner_id=previous,
                               reason=reason, at=ctx.now))
    ctx.dbsession.flush()
    changes: dict[str, tuple[Any, Any]] = {"owner_id": (previous, None), "pool_id": (before_pool, pool.id)}
    if was_locked:
        changes["locked"] = (True, False)
    record_change(ctx, "updated", "customers_customer", customer.id, changes)


# ---------------------------------------------------------------- automatic return


def due_at(pool: Pool, customer: Customer, rules: dict[str, PoolRule] | None = None
           ) -> tuple[dt.datetime, str, int] | None:
    """When the customer goes back by the pool's rules (those of its level first, ``rules``),
    why and after how many days (D-RETURN): "no follow-up" counts from max(last follow-up,
    acquired), "no deal" from acquired; won customers never go back for want of a deal, locked
    ones never go back."""
    if customer.locked:
        return None
    start = customer.acquired_at or customer.created_at
    followup_days, deal_days = days_for(pool, customer, rules)
    dues = []
    if followup_days is not None:
        clock = max(start, customer.last_followup_at or start)
        dues.append((clock + dt.timedelta(days=followup_days), "followup", followup_days))
    if deal_days is not None and customer.deal_status != "won":
        dues.append((start + dt.timedelta(days=deal_days), "deal", deal_days))
    return min(dues) if dues else None


def auto_return_due(ctx: Ctx) -> dict[str, int]:
    """The periodic job: owned customers of each active pool with rules go back when due, and
    their owners are told ``warn_days_before`` days ahead — once per clock (a new follow-up
    starts a new one). Locked customers are skipped, and so are those another addon keeps
    (``customers_pool_return_exempt``, asked once per pool with every customer due or to warn).
    Returns how many were returned and warned."""
    counts = {"returned": 0, "warned": 0}
    rules = or_(Pool.return_after_days_without_followup.is_not(None), Pool.return_after_days_without_deal.is_not(None),
                exists().where(PoolRule.pool_id == Pool.id))
    pools = ctx.dbsession.scalars(select(Pool).where(Pool.active.is_(True), rules).order_by(Pool.id)).all()
    level_rules = rules_by_pool(ctx, [pool.id for pool in pools])
    for pool in pools:
        customers = ctx.dbsession.scalars(select(Customer).where(Customer.pool_id == pool.id,
                                                                 Customer.owner_id.is_not(None),
                                                                 Customer.locked.is_(False), live(Customer))
                                          .order_by(Customer.id)).all()
        candidates = []
        for customer in customers:
            due = due_at(pool, customer, level_rules.get(pool.id))
            if due is not None and (due[0] <= ctx.now or (
                    pool.warn_days_before and due[0] - dt.timedelta(days=pool.warn_days_before) <= ctx.now)):
                candidates.append((customer, due))
        kept = exempt_ids(ctx, [customer.id for customer, _due in candidates])
        for customer, (when, kind, days) in candidates:
            if customer.id in kept:
                continue
            if when <= ctx.now:
                owner = customer.owner_id
                _release(ctx, customer, pool, "auto_returned", f"{kind}:{days}")
                message = (_("“${name}” had no follow-up for ${days} days and went back to the pool “${pool}”.",
                             mapping={"name": customer.name, "days": days, "pool": pool.name}) if kind == "followup"
                           else _("“${name}” had no deal for ${days} days and went back to the pool “${pool}”.",
                                  mapping={"name": customer.name, "days": days, "pool": pool.name}))
                notify(ctx, [owner], "customers.pool_warning", customer, message, url=f"/customers/{customer.id}")
                counts["returned"] += 1
            elif _warn(ctx, pool, customer, when):
                counts["warned"] += 1
    ctx.dbsession.flush()
    return counts


def exempt_ids(ctx: Ctx, customer_ids: list[int]) -> set[int]:
    """The customers other addons keep with their owners (an open opportunity …), asked in one
    call of ``customers_pool_return_exempt``; ids the addon was not asked about are ignored."""
    if not customer_ids:
        return set()
    asked = set(customer_ids)
    kept: set[int] = set()
    for answer in ctx.hooks.customers_pool_return_exempt(ctx=ctx, customer_ids=list(customer_ids)):
        kept.update(int(i) for i in answer or () if int(i) in asked)
    return kept


def _warn(ctx: Ctx, pool: Pool, customer: Customer, when: dt.datetime) -> bool:
    """即将进入公海, once per clock: a warning after the clock's start is not repeated."""
    start = customer.acquired_at or customer.created_at
    clock = max(start, customer.last_followup_at or start)
    already = ctx.dbsession.scalar(select(PoolMove.id).where(
        PoolMove.customer_id == customer.id, PoolMove.action == "warned", PoolMove.at >= clock).limit(1))
    if already is not None:
        return False
    days_left = max(1, -(-(when - ctx.now) // dt.timedelta(days=1)))
    notify(ctx, [customer.owner_id], "customers.pool_warning", customer,
           _("“${name}” goes back to the pool “${pool}” in ${days} days unless you follow it up.",
             mapping={"name": customer.name, "pool": pool.name, "days": days_left}),
           url=f"/customers/{customer.id}")
    ctx.dbsession.add(PoolMove(customer_id=customer.id, pool_id=pool.id, action="warned",
                               previous_owner_id=customer.owner_id, at=ctx.now))
    return True


# ---------------------------------------------------------------- timeline


def move_reason(move: PoolMove) -> Any:
    """A move's reason as people read it. The automatic return stores ``<kind>:<days>``
    (``followup:30``, ``deal:90``) and an unlock forced by a transfer ``lock_limit:<max>``
    (``pool_lock``): codes, so rows stay readable in any language and old rows render too; a
    reason someone typed is shown as typed."""
    reason = move.reason
    code, _sep, number = (reason or "").partition(":")
    if not number.isdigit():
        return reason
    if move.action == "auto_returned" and code == "followup":
        return _("No follow-up for ${days} days", mapping={"days": int(number)})
    if move.action == "auto_returned" and code == "deal":
        return _("No deal for ${days} days", mapping={"days": int(number)})
    if move.action == "unlocked" and code == "lock_limit":
        return _("The new owner already has the most locked customers of this pool (${limit})",
                 mapping={"limit": int(number)})
    return reason


def pool_moves(ctx: Ctx, customer_id: int) -> list[PoolMove]:
    """The customer's moves in and out of pools, newest first (the caller has checked it may
    read the customer)."""
    return list(ctx.dbsession.scalars(select(PoolMove).where(PoolMove.customer_id == customer_id)
                                      .order_by(PoolMove.at.desc(), PoolMove.id.desc()).limit(100)))


# ---------------------------------------------------------------- helpers


def _zone(ctx: Ctx) -> ZoneInfo:
    return ZoneInfo(getattr(ctx.user, "timezone", None) or DEFAULT_ZONE)


def _day_start(ctx: Ctx) -> dt.datetime:
    """Midnight of today in the user's time zone, in UTC: "per day" is the user's day."""
    zone = _zone(ctx)
    return dt.datetime.combine(ctx.now.astimezone(zone).date(), dt.time(), tzinfo=zone).astimezone(dt.UTC)


def record_change(ctx: Ctx, action: str, table: str, record_id: int, changes: dict[str, tuple[Any, Any]]) -> None:
    """Audit (and tell every addon of) a change the pool made, as the services do."""
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        action, table, record_id, changes, user_id=ctx.user.id if ctx.user else None, at=ctx.now))
