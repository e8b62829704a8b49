"""Tables of notifications: what each user was told, and which channels they want per kind."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.i18n import _


class Notification(Base):
    """One notification shown to one user in the app (the bell and the notifications page).

    ``title`` and ``body`` are stored already in the recipient's language. ``read_at`` is
    empty until the user marks it read. The indexes serve the unread count and both lists
    (all, unread only), newest first by ``id``."""

    __tablename__ = "core_notification"
    __table_args__ = (
        Index("ix_core_notification_user_unread", "user_id", "read_at", "id"),
        Index("ix_core_notification_user_newest", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64), info={"label": _("Kind")})
    title: Mapped[str] = mapped_column(String(200), info={"label": _("Title")})
    body: Mapped[str] = mapped_column(Text, default="", info={"label": _("Message")})
    #: A path inside Kehu ("/customers/42") the notification leads to.
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    #: The record it is about: its table name and id (as in the audit log).
    model: Mapped[str] = mapped_column(String(128), default="")
    record_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, info={"label": _("Time")})
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(Base):
    """A user's choice for one kind and one channel (``app`` or ``email``); without a row the
    kind's ``default_channels`` apply."""

    __tablename__ = "core_notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
