"""Who a pool serves (D-POOL, D-SCOPE "Pools are seen by membership"): its member users and
departments see and claim from it, its managers also assign from it and read its history.

A user is a member of a pool when they are named in it, when their department (or any
department above theirs: a 华东大区 pool serves its teams) is named in it or is the pool's own
``department_id``, or when the pool names nobody at all and has no department (company-wide).
``customers.pool:admin`` sees and manages every pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, false, or_, select, true

from core.context import Ctx
from core.contributions import RecordChange
from core.models import User

from .models import Pool, PoolMember

ADMIN = "customers.pool:admin"


def departments_of(user: User | None) -> list[int]:
    """The user's department and every department above it (the org tree's ``path``)."""
    if user is None:
        return []
    department = user.department  # joined with the user
    ids = [int(part) for part in (department.path if department else "").split("/") if part.isdigit()]
    if user.department_id:
        ids.append(user.department_id)
    return ids


def member_condition(user: User | None) -> ColumnElement[bool]:
    """The pools ``user`` is a member of (module docstring), whatever their permissions."""
    if user is None:
        return false()
    departments = departments_of(user)
    named = exists().where(PoolMember.pool_id == Pool.id, or_(PoolMember.user_id == user.id,
                                                              PoolMember.department_id.in_(departments)))
    nobody_named = ~exists().where(PoolMember.pool_id == Pool.id)
    return or_(and_(Pool.department_id.is_(None), nobody_named), Pool.department_id.in_(departments), named)


def visible_pools_condition(ctx: Ctx) -> ColumnElement[bool]:
    """The pools the acting user sees and claims from: their memberships, or all for pool admins."""
    if ctx.access.can(ADMIN):
        return true()
    return member_condition(ctx.user)


def is_member(ctx: Ctx, pool_id: int, user: User) -> bool:
    """May ``user`` hold customers of the pool (the target of an assignment)?"""
    return ctx.dbsession.scalar(select(Pool.id).where(Pool.id == pool_id, member_condition(user))) is not None


def managed_pool_ids(ctx: Ctx) -> set[int] | None:
    """The pools the acting user manages; None means every pool (pool admins)."""
    if ctx.access.can(ADMIN):
        return None
    if ctx.user is None:
        return set()
    return set(ctx.dbsession.scalars(select(PoolMember.pool_id).where(PoolMember.user_id == ctx.user.id,
                                                                      PoolMember.manager.is_(True))))


def manages(ctx: Ctx, pool_id: int) -> bool:
    managed = managed_pool_ids(ctx)
    return managed is None or pool_id in managed


def members_of(ctx: Ctx, pool_id: int) -> dict[str, list[int]]:
    """``{"managers": [user ids], "users": [user ids], "departments": [department ids]}``."""
    out: dict[str, list[int]] = {"managers": [], "users": [], "departments": []}
    for member in ctx.dbsession.scalars(select(PoolMember).where(PoolMember.pool_id == pool_id)
                                        .order_by(PoolMember.id)):
        if member.department_id is not None:
            out["departments"].append(member.department_id)
        elif member.user_id is not None:
            out["managers" if member.manager else "users"].append(member.user_id)
    return out


def set_members(ctx: Ctx, pool_id: int, *, managers: Iterable[int] = (), users: Iterable[int] = (),
                departments: Iterable[int] = ()) -> bool:
    """Replace the pool's managers and members (admin); audited on the pool when they change.
    A manager is a member too. Returns whether anything changed."""
    ctx.access.require(ADMIN)
    managers_ = sorted({int(i) for i in managers})
    users_ = sorted({int(i) for i in users} - set(managers_))
    departments_ = sorted({int(i) for i in departments})
    before = members_of(ctx, pool_id)
    after = {"managers": managers_, "users": users_, "departments": departments_}
    if {k: sorted(v) for k, v in before.items()} == after:
        return False
    ctx.dbsession.execute(delete(PoolMember).where(PoolMember.pool_id == pool_id)
                          .execution_options(synchronize_session=False))
    for user_id in managers_:
        ctx.dbsession.add(PoolMember(pool_id=pool_id, user_id=user_id, manager=True))
    for user_id in users_:
        ctx.dbsession.add(PoolMember(pool_id=pool_id, user_id=user_id, manager=False))
    for department_id in departments_:
        ctx.dbsession.add(PoolMember(pool_id=pool_id, department_id=department_id, manager=False))
    ctx.dbsession.flush()
    changes: dict[str, tuple[Any, Any]] = {key: (before[key], after[key]) for key in after
                                           if sorted(before[key]) != after[key]}
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        "updated", "customers_pool", pool_id, changes, user_id=ctx.user.id if ctx.user else None, at=ctx.now))
    return True
