"""``Access``: what one user may do, loaded once per request or command (two small queries).

Services ask ``ctx.access.require("customers.customer:export")``; views declare the same
permission on the route, so a bypassed view still meets the service's check.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access.exceptions import PermissionDenied
from core.models import ADMIN_ROLE, RolePermission, RoleScope, User


@dataclasses.dataclass(frozen=True)
class RoleGrant:
    key: str
    permissions: frozenset[str]
    default_scope: str
    scopes: dict[str, str]


class Access:
    def __init__(self, grants: list[RoleGrant], *, superuser: bool = False) -> None:
        self.grants = grants
        self.superuser = superuser or any(g.key == ADMIN_ROLE for g in grants)
        self.permissions = frozenset().union(*(g.permissions for g in grants)) if grants else frozenset()

    @classmethod
    def system(cls) -> Access:
        """The command line and jobs act for the installation itself."""
        return cls([], superuser=True)

    @classmethod
    def nobody(cls) -> Access:
        return cls([])

    @classmethod
    def for_user(cls, session: Session, user: User | None) -> Access:
        if user is None or not user.active:
            return cls.nobody()
        role_ids = [role.id for role in user.roles]
        if not role_ids:
            return cls.nobody()
        permissions: dict[int, set[str]] = {role_id: set() for role_id in role_ids}
        for role_id, name in session.execute(
            select(RolePermission.role_id, RolePermission.permission).where(RolePermission.role_id.in_(role_ids))
        ):
            permissions[role_id].add(name)
        scopes: dict[int, dict[str, str]] = {role_id: {} for role_id in role_ids}
        for role_id, key, scope in session.execute(
            select(RoleScope.role_id, RoleScope.model_key, RoleScope.scope).where(RoleScope.role_id.in_(role_ids))
        ):
            scopes[role_id][key] = scope
        return cls([RoleGrant(role.key, frozenset(permissions[role.id]), role.default_scope, scopes[role.id])
                    for role in user.roles])

    def can(self, permission: str) -> bool:
        return self.superuser or permission in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(permission=permission)

    def scopes_for(self, access_key: str, action: str) -> set[str]:
        """The union of the scopes of the roles that grant ``<access_key>:<action>``."""
        if self.superuser:
            return {"all"}
        permission = f"{access_key}:{action}"
        return {g.scopes.get(access_key, g.default_scope) for g in self.grants if permission in g.permissions}
