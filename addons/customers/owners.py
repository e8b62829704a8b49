"""The 负责人 column of an import: the old system's sheet names the owner as people write it —
a username, an e-mail or the display name (王磊) — and the row is refused, not guessed, when
that is nobody, a disabled user, or several people of the same name."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from core.context import Ctx
from core.models import User

from .exceptions import OwnerAmbiguous, OwnerInactive, OwnerUnknown


def owner_named(ctx: Ctx, text: str) -> User:
    """The one user ``text`` names: a username or e-mail (any case) first, else a display name."""
    text = " ".join(text.split())
    lowered = text.lower()
    by_login = ctx.dbsession.scalars(select(User).where(
        or_(func.lower(User.username) == lowered, func.lower(User.email) == lowered))).all()
    found = by_login or ctx.dbsession.scalars(select(User).where(User.display_name == text)).all()
    if not found:
        raise OwnerUnknown(name=text)
    active = [user for user in found if user.active]
    if len(active) > 1:
        raise OwnerAmbiguous(name=text, count=len(active))
    if not active:
        raise OwnerInactive(name=text)
    return active[0]
