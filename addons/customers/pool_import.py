"""导入公海 (D-CLAIM: "a customer can be imported straight into a pool"): an import row naming a
pool in its 公海 column makes a customer without owner in that pool, as if returned there — a
pool move "imported" and an audited change. The pool must be active and one the importer sees."""

from __future__ import annotations

from sqlalchemy import select, update

from core.context import Ctx

from .exceptions import PoolNotFound
from .models import Contact, Customer, Pool, PoolMove
from .pool import record_change, visible_pools_condition


def pool_named(ctx: Ctx, name: str) -> Pool:
    """The active pool of that name the user sees, else PoolNotFound (the row's refusal)."""
    name = (name or "").strip()
    pool = ctx.dbsession.scalars(select(Pool).where(Pool.name == name, Pool.active.is_(True),
                                                    visible_pools_condition(ctx)).order_by(Pool.id).limit(1)).first()
    if pool is None:
        raise PoolNotFound(name=name)
    return pool


def put_in_pool(ctx: Ctx, customer: Customer, pool: Pool) -> None:
    """The new customer has no owner and waits in ``pool``."""
    before = customer.owner_id
    customer.owner_id, customer.pool_id, customer.acquired_at = None, pool.id, None
    ctx.dbsession.execute(update(Contact).where(Contact.customer_id == customer.id).values(owner_id=None)
                          .execution_options(synchronize_session="fetch"))
    ctx.dbsession.add(PoolMove(customer_id=customer.id, pool_id=pool.id, action="imported",
                               user_id=ctx.user.id if ctx.user else None, at=ctx.now))
    ctx.dbsession.flush()
    record_change(ctx, "updated", "customers_customer", customer.id, {"owner_id": (before, None),
                                                                       "pool_id": (None, pool.id)})
