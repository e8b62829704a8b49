"""The views every list has (D-VIEW): 全部, 我负责的, 下属负责的, 我关注的. An addon adds its own
(已转化的线索, 赢单的商机) by passing ``system_views=DEFAULT_SYSTEM_VIEWS + (SystemView(…),)``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import aliased

from core.i18n import _
from core.lists.declaration import SystemView
from core.lists.models import Star
from core.models import Department, User


def mine(ctx: Any, page: Any) -> ColumnElement[bool]:
    return page.model.owner_id == ctx.user.id  # type: ignore[no-any-return]


def subordinates(ctx: Any, page: Any) -> ColumnElement[bool]:
    """Owned by someone in a department the user manages, or below it — not by the user."""
    if ctx.user is None:
        return false()
    managed = aliased(Department)
    below = (select(User.id)
             .join(Department, Department.id == User.department_id)
             .join(managed, Department.path.startswith(managed.path))
             .where(managed.manager_id == ctx.user.id, User.id != ctx.user.id))
    return page.model.owner_id.in_(below)  # type: ignore[no-any-return]


def starred(ctx: Any, page: Any) -> ColumnElement[bool]:
    if ctx.user is None:
        return false()
    stars = select(Star.record_id).where(Star.user_id == ctx.user.id, Star.model == page.model.__tablename__)
    return page.model.id.in_(stars)  # type: ignore[no-any-return]


ALL = SystemView("all", _("All"))
MINE = SystemView("mine", _("Mine"), mine)
SUBORDINATES = SystemView("subordinates", _("My team's"), subordinates)
STARRED = SystemView("starred", _("Starred"), starred)
DEFAULT_SYSTEM_VIEWS = (ALL, MINE, SUBORDINATES, STARRED)
