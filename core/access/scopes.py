"""Record scopes as SQL filters (X1, D-SCOPE): the one path by which every list, count, get,
search, export, API call and dashboard figure of every addon reaches owned records.

A model opts in by deriving from ``Owned`` and naming its ``access_key``
(``customers.customer``): permissions are ``<access_key>:<action>`` and each role has a scope on
it — own / department / department and below / all; several roles give the union of the
scopes of those roles that grant the action.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, ForeignKey, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.access.exceptions import RecordNotFound
from core.access.members import has_team, member_condition
from core.access.recycle import is_recyclable
from core.i18n import _
from core.models import Department, User

SCOPES = {
    "own": _("Own records"),
    "department": _("My department"),
    "department_tree": _("My department and below"),
    "all": _("All records"),
}

T = TypeVar("T")


class Owned:
    """Mixin for records with an owner (负责人) that record scopes apply to."""

    access_key: ClassVar[str]

    @declared_attr
    def owner_id(cls) -> Mapped[int | None]:  # noqa: N805 (declared_attr receives the class)
        return mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), default=None, index=True)


def scope_condition(ctx: Any, model: type, action: str = "read", *, recycled: bool = False) -> ColumnElement[bool]:
    """The WHERE clause limiting ``model`` to what ``ctx.user`` may ``action``.

    Raises PermissionDenied when no role grants ``<access_key>:<action>`` at all. Addons that
    widen access OR their own condition with this one; team members of a ``HasTeam`` record
    (``core.access.members``) reach it for read (and write, if read-write) here. A
    ``Recyclable`` record in the recycle bin is outside every scope, unless ``recycled`` asks for
    the bin's records (and only those) instead."""
    owned = _owner_condition(ctx, model, action)
    if has_team(model):
        owned = or_(owned, member_condition(ctx, model, action))
    if not is_recyclable(model):
        return owned
    deleted = model.deleted_at.is_not(None) if recycled else model.deleted_at.is_(None)  # type: ignore[attr-defined]
    return and_(owned, deleted)


def _owner_condition(ctx: Any, model: type, action: str) -> ColumnElement[bool]:
    return owners_condition(ctx, model.access_key, model.owner_id, action)  # type: ignore[attr-defined]


def owners_condition(ctx: Any, access_key: str, owner: Any, action: str = "read") -> ColumnElement[bool]:
    """Whether the user column ``owner`` holds someone whose ``access_key`` records the user's
    scope reaches for ``action`` — the owner part of ``scope_condition``, for rows that are no
    record but belong to a person (a sales target, a quota): ``Target.user_id``."""
    access = ctx.access
    permission = f"{access_key}:{action}"
    access.require(permission)
    scopes = access.scopes_for(access_key, action)
    if "all" in scopes:
        return true()
    user = ctx.user
    conditions: list[ColumnElement[bool]] = []
    if "own" in scopes:
        conditions.append(owner == user.id)
    department = user.department if user is not None else None
    if department is not None and "department" in scopes:
        conditions.append(owner.in_(select(User.id).where(User.department_id == department.id)))
    if department is not None and "department_tree" in scopes:
        below = select(User.id).join(Department, Department.id == User.department_id).where(
            func.substr(Department.path, 1, len(department.path)) == department.path)
        conditions.append(owner.in_(below))
    if not conditions and user is not None:  # a department scope without a department: own only
        conditions.append(owner == user.id)
    return or_(*conditions) if conditions else false()


def scoped_select(ctx: Any, model: type[T], action: str = "read") -> Select[tuple[T]]:
    """``select(model)`` limited to the caller's scope for ``action``."""
    return select(model).where(scope_condition(ctx, model, action))


def count_in_scope(ctx: Any, model: type, action: str = "read", *where: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(model).where(scope_condition(ctx, model, action), *where)
    return ctx.dbsession.scalar(query) or 0


def get_in_scope(ctx: Any, model: type[T], record_id: Any, action: str = "read") -> T:
    """The record, or RecordNotFound (a 404) when it does not exist *or* is out of scope."""
    record = ctx.dbsession.scalar(scoped_select(ctx, model, action).where(model.id == record_id))  # type: ignore[attr-defined]
    if record is None:
        raise RecordNotFound()
    return record
