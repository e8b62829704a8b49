"""What a user keeps of a list page: saved views (场景), per-list settings (columns, default
view, hidden and ordered views) and stars (关注) on records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class SavedView(Base):
    """A user's own view of one list: conditions ``[[field, operator, value], …]``, a search
    text and a sort, under a name. Only its owner sees it."""

    __tablename__ = "core_saved_view"
    __table_args__ = (Index("ix_core_saved_view_user_list", "user_id", "list_key", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    list_key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    q: Mapped[str] = mapped_column(String(200), default="")
    sort: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListSetting(Base):
    """One user's settings of one list: chosen columns (None: the declared defaults), the view
    opened by default (``system:<key>`` or ``saved:<id>``), and the order and hidden views."""

    __tablename__ = "core_list_setting"
    __table_args__ = (UniqueConstraint("user_id", "list_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    list_key: Mapped[str] = mapped_column(String(100))
    columns: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    default_view: Mapped[str | None] = mapped_column(String(64), default=None)
    view_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    hidden_views: Mapped[list[str]] = mapped_column(JSON, default=list)


class Star(Base):
    """A user follows (关注) a record: the ``starred`` system view lists them."""

    __tablename__ = "core_star"
    __table_args__ = (UniqueConstraint("user_id", "model", "record_id"),
                      Index("ix_core_star_model_record", "model", "record_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
