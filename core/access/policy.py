"""``Access``: what one user may do, loaded once per request or command. The grants of every
role (two small queries) are kept per process between requests (``core.config_cache``).

Services ask ``ctx.access.require("customers.customer:export")``; views declare the same
permission on the route, so a bypassed view still meets the service's check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access.exceptions import PermissionDenied
from core.config_cache import cached
from core.models import ADMIN_ROLE, RolePermission, RoleScope, User

if TYPE_CHECKING:
    from core.context import Ctx


@dataclasses.dataclass(frozen=True)
class RoleGrant:
    key: str
    permissions: frozenset[str]
    scopes: Mapping[str, str]
    default_scope: str


_NO_GRANTS: tuple[frozenset[str], Mapping[str, str]] = (frozenset(), MappingProxyType({}))


def _role_grants(session: Session) -> dict[int, tuple[frozenset[str], Mapping[str, str]]]:
    """Every role's permissions and per-model scopes (few roles, a few hundred rows)."""
    permissions: dict[int, set[str]] = {}
    for role_id, name in session.execute(select(RolePermission.role_id, RolePermission.permission)):
        permissions.setdefault(role_id, set()).add(name)
    scopes: dict[int, dict[str, str]] = {}
    for role_id, key, scope in session.execute(select(RoleScope.role_id, RoleScope.model_key, RoleScope.scope)):
        scopes.setdefault(role_id, {})[key] = scope
    return {role_id: (frozenset(permissions.get(role_id, ())), MappingProxyType(scopes.get(role_id, {})))
            for role_id in permissions.keys() | scopes.keys()}


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
    def for_user(cls, ctx: Ctx, user: User | None) -> Access:
        if user is None or not user.active or not user.roles:
            return cls.nobody()
        grants = cached(ctx, "core.role_grants", lambda: _role_grants(ctx.dbsession))
        return cls([RoleGrant(role.key, *grants.get(role.id, _NO_GRANTS), default_scope=role.default_scope)
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
