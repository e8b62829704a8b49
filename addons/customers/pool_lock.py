"""锁定 (D-RETURN, D-CAP): whoever may change a customer — its owner, their manager — locks it so
the automatic return never takes it, within the pool's most locked customers per owner. Each
lock and unlock is a pool move on the customer's timeline and an audited change.

A locked customer transferred (转移, ``services.assign_customers``) to another owner stays
locked while the new owner has room under the pool's ``max_locked`` — the lock is about the
customer (a key account being negotiated), not about who holds it, so a transfer alone does not
expose it to the automatic return. D-CAP checks the cap on transfer too: beyond it the customer
is unlocked, with an "unlocked" pool move whose reason (``lock_limit:<max>``) the timeline shows
as a sentence, and an audited change. Customers going back to a pool (``pool._release``) lose
their lock; customers assigned from a pool were never locked there.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from core.access.recycle import live
from core.access.scopes import get_in_scope
from core.context import Ctx

from .exceptions import LockLimitReached, NotLockable
from .models import Customer, Pool, PoolMove
from .pool import lock_user, record_change
from .services import owner_label


def lock_customer(ctx: Ctx, customer_id: int) -> Customer:
    """Lock an owned customer; LockLimitReached beyond the pool's ``max_locked`` for its owner."""
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    if customer.owner_id is None:
        raise NotLockable(name=customer.name)
    if customer.locked:
        return customer
    pool = ctx.dbsession.get(Pool, customer.pool_id) if customer.pool_id is not None else None
    if pool is not None and pool.max_locked is not None:
        lock_user(ctx, customer.owner_id)  # two locks at once count each other
        locked = ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id == customer.owner_id, Customer.pool_id == pool.id, Customer.locked.is_(True),
            live(Customer)))
        if locked >= pool.max_locked:
            raise LockLimitReached(owner=owner_label(ctx, customer.owner_id), limit=pool.max_locked,
                                   pool=pool.name, locked=locked)
    _set(ctx, customer, True)
    return customer


def unlock_customer(ctx: Ctx, customer_id: int) -> Customer:
    """Unlock: the automatic return applies again from its usual clock."""
    customer = get_in_scope(ctx, Customer, customer_id, "write")
    if customer.locked:
        _set(ctx, customer, False)
    return customer


#: The reason of an unlock forced by a transfer: the new owner's cap (``LOCK_LIMIT:<max>``).
LOCK_LIMIT = "lock_limit"


def keep_locks_within_limit(ctx: Ctx, customers: Sequence[Customer], owner_id: int) -> list[int]:
    """After ``customers`` were transferred to ``owner_id`` (see the module docstring): the
    locked ones stay locked within the new owner's ``max_locked`` of their pool, lowest ids
    first; the rest are unlocked. Returns the ids unlocked."""
    locked = [c for c in customers if c.locked and c.pool_id is not None]
    if not locked:
        return []
    pools = {pool.id: pool for pool in ctx.dbsession.scalars(select(Pool).where(
        Pool.id.in_({c.pool_id for c in locked}), Pool.max_locked.is_not(None)))}
    if not pools:
        return []
    lock_user(ctx, owner_id)  # a lock of the new owner meanwhile counts too
    moving = [c.id for c in locked]
    unlocked = []
    for pool in sorted(pools.values(), key=lambda p: p.id):
        limit = pool.max_locked or 0
        held = ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id == owner_id, Customer.pool_id == pool.id, Customer.locked.is_(True),
            Customer.id.not_in(moving), live(Customer))) or 0
        for customer in sorted((c for c in locked if c.pool_id == pool.id), key=lambda c: c.id):
            if held < limit:
                held += 1
                continue
            _set(ctx, customer, False, reason=f"{LOCK_LIMIT}:{limit}")
            unlocked.append(customer.id)
    return unlocked


def _set(ctx: Ctx, customer: Customer, locked: bool, reason: str | None = None) -> None:
    customer.locked = locked
    ctx.dbsession.add(PoolMove(customer_id=customer.id, pool_id=customer.pool_id,
                               action="locked" if locked else "unlocked",
                               user_id=ctx.user.id if ctx.user else None, reason=reason,
                               at=ctx.now))
    ctx.dbsession.flush()
    record_change(ctx, "updated", "customers_customer", customer.id, {"locked": (not locked, locked)})
