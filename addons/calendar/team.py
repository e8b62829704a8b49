"""Whose calendars the team view puts side by side: the active people of the reader's
department and the departments below it whom the reader's read scope reaches (a manager's
people; an administrator's whole company from the top department). Capped, so a company of
thousands still gets a page, not a timeout."""

from __future__ import annotations

from sqlalchemy import func, select

from core.access.scopes import owners_condition
from core.context import Ctx
from core.models import Department, User

#: People one team page shows at most.
TEAM_LIMIT = 60


def team_people(ctx: Ctx) -> list[User]:
    """The reader's team, the reader first, then by department and name."""
    ctx.access.require("calendar.team:read")
    query = select(User).where(User.active.is_(True), owners_condition(ctx, "calendar.item", User.id))
    department = ctx.user.department if ctx.user is not None else None
    if department is not None:
        below = select(Department.id).where(func.substr(Department.path, 1, len(department.path)) == department.path)
        query = query.where(User.department_id.in_(below))
    me = ctx.user.id if ctx.user is not None else 0
    return list(ctx.dbsession.scalars(query.order_by((User.id == me).desc(), User.department_id, User.display_name,
                                                     User.username).limit(TEAM_LIMIT)))
