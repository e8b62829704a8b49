"""Team members (团队成员, D-SCOPE): users added to one record, read-only or read-write,
optionally until a date, who reach that record as if it were in their scope.

A model opts in by deriving from ``HasTeam``; ``scope_condition`` then ORs "I am a current
member" into every read and write, so lists, gets, search, the API and everything under the
record (a customer's contacts) open to members without any addon remembering a filter. Members
never gain delete, export or assignment: those stay with the owner's scope.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ColumnElement, ForeignKey, Index, Integer, String, false, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Model, UTCDateTime
from core.models import User

#: The actions membership grants: read for every member, write for read-write members.
MEMBER_ACTIONS = ("read", "write")


class HasTeam:
    """Mixin marking a model whose records may have team members."""


class RecordMember(Model):
    """One user on one record's team; ``model`` is the record's table name."""

    __tablename__ = "core_record_member"
    __table_args__ = (Index("ix_core_record_member_user_model_record", "user_id", "model", "record_id"),
                      Index("uq_core_record_member_model_record_user", "model", "record_id", "user_id", unique=True))

    model: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Membership ends at this moment (a colleague helping for a month); empty = until removed.
    until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def has_team(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, HasTeam)


#: Up to this many memberships are written into the SQL as ids (see ``member_condition``).
INLINE_IDS = 500
_CACHE = "kehu.member_ids"


def member_condition(ctx: Any, model: Any, action: str) -> ColumnElement[bool]:
    """Records of ``model`` the user is a current member of, for ``action``.

    The ids are looked up once per session (request) and written into the condition, not left
    as ``id IN (SELECT …)``: OR-ed with ``owner_id = …`` that subquery keeps PostgreSQL from
    combining the two indexes, and a list sorted by name then walks the whole name index
    (44 ms for a salesperson's key customers among 100,000; 1 ms with the ids). Most users are
    members of nothing, and the condition is then the owner's alone."""
    user = ctx.user
    if user is None or action not in MEMBER_ACTIONS or not has_team(model):
        return false()
    teams = select(RecordMember.record_id, RecordMember.until).where(
        RecordMember.user_id == user.id, RecordMember.model == model.__tablename__)
    if action == "write":
        teams = teams.where(RecordMember.can_write.is_(True))
    cache = ctx.dbsession.info.setdefault(_CACHE, {})
    key = (user.id, model.__tablename__, action)
    if key not in cache:  # with their end dates: a job's later clock needs no new lookup
        rows = ctx.dbsession.execute(teams.order_by(RecordMember.record_id).limit(INLINE_IDS + 1)).all()
        cache[key] = rows if len(rows) <= INLINE_IDS else None
    rows = cache[key]
    if rows is None:  # a member of very many records: let the database look them up
        current = teams.with_only_columns(RecordMember.record_id).where(
            or_(RecordMember.until.is_(None), RecordMember.until > ctx.now))
        return model.id.in_(current)  # type: ignore[no-any-return]
    ids = [record_id for record_id, until in rows if until is None or until > ctx.now]
    return model.id.in_(ids) if ids else false()  # type: ignore[no-any-return]


def _changed(ctx: Any) -> None:
    """Memberships changed in this session: the next condition looks them up again."""
    ctx.dbsession.info.pop(_CACHE, None)


@dataclasses.dataclass(frozen=True)
class Member:
    """A team member as pages show them."""

    id: int
    user_id: int
    name: str
    can_write: bool
    until: dt.datetime | None


def members_of(ctx: Any, record: Any) -> list[Member]:
    """The record's team (expired memberships included: the page says so), by name."""
    rows = ctx.dbsession.execute(
        select(RecordMember, User.display_name, User.username).join(User, User.id == RecordMember.user_id)
        .where(RecordMember.model == record.__tablename__, RecordMember.record_id == record.id)
        .order_by(User.display_name, User.username))
    return [Member(m.id, m.user_id, display or username, m.can_write, m.until) for m, display, username in rows]


def set_member(ctx: Any, record: Any, user_id: int, *, can_write: bool = False,
               until: dt.datetime | None = None) -> tuple[RecordMember, bool]:
    """Add ``user_id`` to the record's team or change their rights; returns the membership and
    whether it is new. The caller has checked that the acting user may write the record."""
    member = ctx.dbsession.scalar(select(RecordMember).where(
        RecordMember.model == record.__tablename__, RecordMember.record_id == record.id,
        RecordMember.user_id == user_id))
    created = member is None
    if member is None:
        member = RecordMember(model=record.__tablename__, record_id=record.id, user_id=user_id)
        ctx.dbsession.add(member)
    member.can_write, member.until = can_write, until
    ctx.dbsession.flush()
    _changed(ctx)
    return member, created


def remove_member(ctx: Any, record: Any, user_id: int) -> bool:
    """Take ``user_id`` off the record's team; False when they were not on it."""
    member = ctx.dbsession.scalar(select(RecordMember).where(
        RecordMember.model == record.__tablename__, RecordMember.record_id == record.id,
        RecordMember.user_id == user_id))
    if member is None:
        return False
    ctx.dbsession.delete(member)
    ctx.dbsession.flush()
    _changed(ctx)
    return True


def forget_records(ctx: Any, model: Any, record_ids: list[int]) -> None:
    """Drop the teams of records deleted for good (there is no foreign key to hold them)."""
    from sqlalchemy import delete

    if record_ids:
        ctx.dbsession.execute(delete(RecordMember).where(RecordMember.model == model.__tablename__,
                                                         RecordMember.record_id.in_(record_ids)))
        _changed(ctx)


def move_team(ctx: Any, model: Any, source_id: int, target_id: int) -> int:
    """A merge: the source record's members join the target's team (those already on it keep
    their own rights); returns how many moved."""
    table = model.__tablename__
    on_target = select(RecordMember.user_id).where(RecordMember.model == table, RecordMember.record_id == target_id)
    moved = ctx.dbsession.execute(
        update(RecordMember).where(RecordMember.model == table, RecordMember.record_id == source_id,
                                   RecordMember.user_id.not_in(on_target))
        .values(record_id=target_id).execution_options(synchronize_session=False)).rowcount or 0
    forget_records(ctx, model, [source_id])
    _changed(ctx)
    return moved
