"""Permissions declared through ``kehu_permissions``: collected, checked for collisions.

Who holds them is decided by ``core.access.policy.Access`` from the user's roles.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyramid.exceptions import ConfigurationError

from core.contributions import Permission

SEEDED_ROLES = ("admin", "sales_manager", "sales", "service", "marketing", "auditor")
ACTIONS = ("read", "create", "write", "delete", "export", "import", "assign", "see_sensitive")


def collect_permissions(hook_results: Iterable[list[Permission]]) -> dict[str, Permission]:
    """Flatten ``kehu_permissions`` results; a name declared twice is a start-up error."""
    found: dict[str, Permission] = {}
    for batch in hook_results:
        for permission in batch or ():
            if permission.name in found:
                raise ConfigurationError(f"permission {permission.name!r} is declared twice")
            if ":" not in permission.name or "." not in permission.name.split(":")[0]:
                raise ConfigurationError(f"permission {permission.name!r} is not named <addon>.<model>:<action>")
            unknown = set(permission.default_roles) - set(SEEDED_ROLES)
            if unknown:
                raise ConfigurationError(f"permission {permission.name!r} names unknown roles {sorted(unknown)}")
            found[permission.name] = permission
    return found
