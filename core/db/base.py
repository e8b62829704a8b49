"""The declarative base and the standard columns of every table (ARCHITECTURE §8).

Every model of the core and of every addon derives from ``Model`` (or ``Base`` for the rare
table without the standard columns), so constraint names, timestamps and authorship are the
same everywhere and migrations get predictable names.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, MetaData, event
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
)

from core.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Key in ``Session.info`` naming the acting user; ``created_by``/``updated_by`` come from it.
ACTING_USER_KEY = "kehu.user_id"


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC (the only time the database stores)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Shared declarative base: one ``MetaData`` with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Model(Base):
    """Abstract base with ``id``, ``created_at``/``updated_at`` and ``created_by``/``updated_by``."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @declared_attr
    def created_by(cls) -> Mapped[int | None]:  # noqa: N805 (declared_attr receives the class)
        return mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), default=None)

    @declared_attr
    def updated_by(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), default=None)


@event.listens_for(Session, "before_flush")
def _stamp_authorship(session: Session, flush_context: object, instances: object) -> None:
    """Fill ``created_by``/``updated_by`` from the acting user the context put on the session."""
    user_id = session.info.get(ACTING_USER_KEY)
    if user_id is None:
        return
    for obj in session.new:
        if isinstance(obj, Model):
            obj.created_by = obj.created_by or user_id
            obj.updated_by = user_id
    for obj in session.dirty:
        if isinstance(obj, Model) and session.is_modified(obj, include_collections=False):
            obj.updated_by = user_id
