"""Built-in roles, default grants, and the services that edit roles (the permission matrix)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete, func, select

from core.access.exceptions import (
    BuiltinRole,
    InvalidRoleKey,
    LastAdministrator,
    PermissionDenied,
    RoleInUse,
    RoleKeyTaken,
    UnknownPermission,
    UnknownScope,
)
from core.access.scopes import SCOPES
from core.audit.services import write_audit
from core.context import Ctx
from core.contributions import Permission
from core.i18n import _, translate
from core.models import ADMIN_ROLE, DeclaredPermission, Role, RolePermission, RoleScope, User, UserRole
from core.permissions import collect_permissions

#: Display names of the seeded roles (their ``name`` column holds these English msgids).
BUILTIN_ROLE_TITLES = {
    "admin": _("Administrator"),
    "sales_manager": _("Sales manager"),
    "sales": _("Salesperson"),
    "service": _("Customer service"),
    "marketing": _("Marketing"),
    "auditor": _("Auditor"),
}
ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


def declared_permissions(ctx: Ctx) -> dict[str, Permission]:
    """Every permission the core and the installed addons declare."""
    return collect_permissions(ctx.hooks.kehu_permissions())


def sync_declared_permissions(ctx: Ctx, permissions: Iterable[Permission]) -> list[str]:
    """Record permissions seen for the first time and grant them to their default built-in
    roles. Run at ``kehu init`` and whenever an addon is installed or upgraded."""
    session = ctx.dbsession
    known = set(session.scalars(select(DeclaredPermission.name)))
    roles = {role.key: role for role in session.scalars(select(Role).where(Role.builtin.is_(True)))}
    new: list[str] = []
    for permission in permissions:
        if permission.name in known:
            continue
        known.add(permission.name)
        new.append(permission.name)
        session.add(DeclaredPermission(name=permission.name, first_seen_at=ctx.now))
        for key in permission.default_roles:
            if key in roles and key != ADMIN_ROLE:  # the administrator holds everything anyway
                session.add(RolePermission(role_id=roles[key].id, permission=permission.name))
    session.flush()
    return new


def role_permissions(ctx: Ctx, role: Role) -> set[str]:
    return set(ctx.dbsession.scalars(select(RolePermission.permission).where(RolePermission.role_id == role.id)))


def role_scopes(ctx: Ctx, role: Role) -> dict[str, str]:
    rows = ctx.dbsession.execute(select(RoleScope.model_key, RoleScope.scope).where(RoleScope.role_id == role.id))
    return dict(rows.all())


def create_role(ctx: Ctx, key: str, name: str, *, description: str = "", default_scope: str = "own") -> Role:
    ctx.access.require("core.role:write")
    key = key.strip()
    if not ROLE_KEY.match(key):
        raise InvalidRoleKey()
    if ctx.dbsession.scalar(select(Role.id).where(Role.key == key)) is not None:
        raise RoleKeyTaken(key=key)
    _check_scope(default_scope)
    role = Role(key=key, name=name.strip(), description=description.strip(), default_scope=default_scope)
    ctx.dbsession.add(role)
    ctx.dbsession.flush()
    write_audit(ctx, "create", model=Role.__tablename__, record_id=role.id, changes={"key": [None, key]})
    return role


def update_role(ctx: Ctx, role: Role, *, name: str, description: str, default_scope: str) -> None:
    ctx.access.require("core.role:write")
    _check_scope(default_scope)
    changes = {}
    for field, value in (("name", name.strip()), ("description", description.strip()),
                         ("default_scope", default_scope)):
        if getattr(role, field) != value:
            changes[field] = [getattr(role, field), value]
            setattr(role, field, value)
    if changes:
        write_audit(ctx, "permission_change", model=Role.__tablename__, record_id=role.id, changes=changes)


def set_role_permissions(ctx: Ctx, role: Role, names: Iterable[str]) -> None:
    """Replace the role's grants. Every name must be a declared permission."""
    ctx.access.require("core.role:write")
    declared = declared_permissions(ctx)
    wanted = set(names)
    for name in sorted(wanted):
        if name not in declared:
            raise UnknownPermission(permission=name)
    current = role_permissions(ctx, role)
    added, removed = sorted(wanted - current), sorted(current - wanted)
    for name in added + removed:  # nobody hands out (or takes away) what they do not hold
        ctx.access.require(name)
    if not added and not removed:
        return
    if removed:
        ctx.dbsession.execute(delete(RolePermission).where(RolePermission.role_id == role.id,
                                                           RolePermission.permission.in_(removed)))
    ctx.dbsession.add_all(RolePermission(role_id=role.id, permission=name) for name in added)
    ctx.dbsession.flush()
    write_audit(ctx, "permission_change", model=Role.__tablename__, record_id=role.id,
                changes={"granted": [None, added], "revoked": [removed, None]})


def set_role_scope(ctx: Ctx, role: Role, model_key: str, scope: str | None) -> None:
    """Give ``role`` its own scope on ``model_key``; ``None`` falls back to the default scope."""
    ctx.access.require("core.role:write")
    if not any(name.startswith(f"{model_key}:") for name in declared_permissions(ctx)):
        raise UnknownPermission(permission=f"{model_key}:*")
    if scope is not None:
        _check_scope(scope)
    row = ctx.dbsession.get(RoleScope, (role.id, model_key))
    before = row.scope if row else None
    if before == scope:
        return
    if row is not None and scope is None:
        ctx.dbsession.delete(row)
    elif row is not None:
        row.scope = scope
    else:
        ctx.dbsession.add(RoleScope(role_id=role.id, model_key=model_key, scope=scope))
    ctx.dbsession.flush()
    write_audit(ctx, "permission_change", model=Role.__tablename__, record_id=role.id,
                changes={f"scope:{model_key}": [before, scope]})


def delete_role(ctx: Ctx, role: Role) -> None:
    ctx.access.require("core.role:write")
    if role.builtin:
        raise BuiltinRole(name=role_title(role, ctx.locale))
    count = ctx.dbsession.scalar(select(func.count()).select_from(UserRole).where(UserRole.role_id == role.id))
    if count:
        raise RoleInUse(name=role_title(role, ctx.locale), count=count)
    write_audit(ctx, "delete", model=Role.__tablename__, record_id=role.id, changes={"key": [role.key, None]})
    ctx.dbsession.delete(role)
    ctx.dbsession.flush()


def set_user_roles(ctx: Ctx, user: User, roles: Iterable[Role]) -> None:
    """Give ``user`` exactly ``roles``; the last active administrator keeps the admin role."""
    ctx.access.require("core.user:write")
    new = {role.id: role for role in roles}
    before = sorted(user.role_keys)
    after = sorted(role.key for role in new.values())
    if before == after:
        return
    if (ADMIN_ROLE in before) != (ADMIN_ROLE in after) and not ctx.access.superuser:
        raise PermissionDenied(permission=ADMIN_ROLE)  # only an administrator makes or unmakes one
    if ADMIN_ROLE in before and ADMIN_ROLE not in after:
        ensure_another_admin(ctx, user)
    ctx.dbsession.execute(delete(UserRole).where(UserRole.user_id == user.id))
    ctx.dbsession.add_all(UserRole(user_id=user.id, role_id=role_id) for role_id in new)
    ctx.dbsession.flush()
    ctx.dbsession.expire(user, ["roles"])
    write_audit(ctx, "permission_change", model=User.__tablename__, record_id=user.id,
                changes={"roles": [before, after]})


def ensure_another_admin(ctx: Ctx, leaving: User) -> None:
    """Refuse a change that would leave no active administrator."""
    others = ctx.dbsession.scalar(
        select(func.count()).select_from(User)
        .join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
        .where(Role.key == ADMIN_ROLE, User.active.is_(True), User.id != leaving.id)
    )
    if not others:
        raise LastAdministrator()


def role_title(role: Role, locale: str | None = None) -> str:
    """A built-in role's name in the reader's language; a custom role's name as typed."""
    if role.builtin and role.key in BUILTIN_ROLE_TITLES:
        return translate(BUILTIN_ROLE_TITLES[role.key], locale)
    return role.name


def role_by_key(ctx: Ctx, key: str) -> Role:
    return ctx.dbsession.scalars(select(Role).where(Role.key == key)).one()


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise UnknownScope(scope=scope)
