"""锁定 (D-RETURN, D-CAP): whoever may change a customer — its owner, their manager — locks it so
the automatic return never takes it, within the pool's most locked customers per owner. Each
lock and unlock is a pool move on the customer's timeline and an audited change."""

from __future__ import annotations

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


def _set(ctx: Ctx, customer: Customer, locked: bool) -> None:
    customer.locked = locked
    ctx.dbsession.add(PoolMove(customer_id=customer.id, pool_id=customer.pool_id,
                               action="locked" if locked else "unlocked",
                               user_id=ctx.user.id if ctx.user else None,
                               at=ctx.now))
    ctx.dbsession.flush()
    record_change(ctx, "updated", "customers_customer", customer.id, {"locked": (not locked, locked)})
