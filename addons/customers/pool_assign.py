"""分配 from the pool (D-CLAIM): a pool's manager (or a pool admin) gives pool customers to one of
the pool's members. The claim limits are the claimer's own and do not apply; a disabled user or
someone outside the pool is refused. The customers' contacts follow the new owner (D-OWN), each
customer gets an "assigned" pool move and an audited change, and the new owner one notice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import lazyload

from core.access.recycle import live
from core.context import Ctx
from core.models import User

from .exceptions import AlreadyClaimed, AssigneeInactive, AssigneeNotMember, NotPoolManager, PoolUnavailable
from .models import Contact, Customer, Pool, PoolMember, PoolMove
from .pool import record_change
from .pool_members import departments_of, is_member, managed_pool_ids
from .services import notify_assigned, owner_label


def assign_from_pool(ctx: Ctx, customer_ids: Iterable[int], user_id: int) -> list[Customer]:
    """Give the pool customers to ``user_id``, all or none; returns them. Each customer is taken
    with the same conditional UPDATE as a claim, so a customer claimed meanwhile is refused
    (AlreadyClaimed) rather than taken from its new owner."""
    actor = ctx.user.id if ctx.user is not None else None  # None: the system (an import, a script)
    target = ctx.dbsession.get(User, int(user_id))
    if target is None or not target.active:
        raise AssigneeInactive()
    ids = sorted({int(i) for i in customer_ids})
    rows = {row.id: row for row in ctx.dbsession.execute(
        select(Customer.id, Customer.name, Customer.owner_id, Customer.pool_id).where(Customer.id.in_(ids),
                                                                                     live(Customer)))}
    managed = managed_pool_ids(ctx)
    pools = {pool.id: pool for pool in ctx.dbsession.scalars(select(Pool).where(
        Pool.id.in_({row.pool_id for row in rows.values() if row.pool_id is not None}), Pool.active.is_(True)))}
    for customer_id in ids:
        row = rows.get(customer_id)
        if row is None or row.pool_id not in pools:
            raise PoolUnavailable()
        if row.owner_id is not None:
            raise AlreadyClaimed(name=row.name, owner=owner_label(ctx, row.owner_id))
        pool = pools[row.pool_id]
        if managed is not None and pool.id not in managed:
            raise NotPoolManager(pool=pool.name)
    for pool_id in {rows[i].pool_id for i in ids}:
        if not is_member(ctx, pool_id, target):
            raise AssigneeNotMember(user=target.label, pool=pools[pool_id].name)
    for customer_id in ids:
        row = rows[customer_id]
        won = ctx.dbsession.execute(
            update(Customer).where(Customer.id == row.id, Customer.owner_id.is_(None), Customer.pool_id == row.pool_id)
            .values(owner_id=target.id, acquired_at=ctx.now, updated_at=ctx.now, updated_by=actor)
            .execution_options(synchronize_session=False))
        if won.rowcount != 1:
            owner = ctx.dbsession.scalar(select(Customer.owner_id).where(Customer.id == row.id))
            raise AlreadyClaimed(name=row.name, owner=owner_label(ctx, owner))
        ctx.dbsession.execute(update(Contact).where(Contact.customer_id == row.id).values(owner_id=target.id)
                              .execution_options(synchronize_session=False))
        ctx.dbsession.add(PoolMove(customer_id=row.id, pool_id=row.pool_id, action="assigned", user_id=actor,
                                   assignee_id=target.id, at=ctx.now))
        record_change(ctx, "updated", "customers_customer", row.id, {"owner_id": (None, target.id)})
    ctx.dbsession.flush()
    customers = list(ctx.dbsession.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
                                           .execution_options(populate_existing=True)))
    notify_assigned(ctx, customers, target.id)
    return customers


def assignee_choices(ctx: Ctx) -> list[tuple[Any, Any]]:
    """Active members of the pools the user manages (the pool list's "Assign" asks for one), in
    three queries whatever the number of users."""
    managed = managed_pool_ids(ctx)
    query = select(Pool).where(Pool.active.is_(True))
    if managed is not None:
        query = query.where(Pool.id.in_(managed))
    pools = list(ctx.dbsession.scalars(query))
    if not pools:
        return []
    named = list(ctx.dbsession.scalars(select(PoolMember).where(PoolMember.pool_id.in_([p.id for p in pools]))))
    open_to_all = any(p.department_id is None and all(m.pool_id != p.id for m in named) for p in pools)
    user_ids = {m.user_id for m in named if m.user_id is not None}
    departments = {m.department_id for m in named if m.department_id is not None}
    departments |= {p.department_id for p in pools if p.department_id is not None}
    users = ctx.dbsession.scalars(select(User).where(User.active.is_(True)).options(lazyload(User.roles))
                                 .order_by(User.username)).unique()
    return [(user.id, user.label) for user in users
            if open_to_all or user.id in user_ids or departments.intersection(departments_of(user))]
