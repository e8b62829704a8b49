"""Who may do what, until the access-control core brings roles, departments and scopes.

For now: an administrator holds every permission; any other active user holds the permissions
whose default roles include ``sales`` (the seeded salesperson role). Views and services ask the
same question through ``has_permission`` so the later role model changes one function.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyramid.exceptions import ConfigurationError

from core.contributions import Permission
from core.models import User

BASELINE_ROLE = "sales"
SEEDED_ROLES = ("admin", "sales_manager", "sales", "service", "marketing", "auditor")


def collect_permissions(hook_results: Iterable[list[Permission]]) -> dict[str, Permission]:
    """Flatten ``kehu_permissions`` results; a name declared twice is a start-up error."""
    found: dict[str, Permission] = {}
    for batch in hook_results:
        for permission in batch or ():
            if permission.name in found:
                raise ConfigurationError(f"permission {permission.name!r} is declared twice")
            unknown = set(permission.default_roles) - set(SEEDED_ROLES)
            if unknown:
                raise ConfigurationError(f"permission {permission.name!r} names unknown roles {sorted(unknown)}")
            found[permission.name] = permission
    return found


def has_permission(user: User | None, permission: str, declared: dict[str, Permission]) -> bool:
    if user is None or not user.active:
        return False
    if user.is_admin:
        return True
    declared_permission = declared.get(permission)
    return declared_permission is not None and BASELINE_ROLE in declared_permission.default_roles
