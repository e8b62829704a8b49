"""Tables of the core itself: addon install state, the registry version, users, login sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Model, UTCDateTime, utcnow

ADDON_INSTALLED = "installed"
ADDON_UNINSTALLED = "uninstalled"


class Addon(Base):
    """One row per addon ever installed in this database; ``state`` says whether it is now."""

    __tablename__ = "core_addon"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=ADDON_INSTALLED)
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RegistryVersion(Base):
    """A single counter, bumped by every install, upgrade and uninstall.

    Each app process compares it with the value it last saw (one primary-key read per request)
    and reloads its set of installed addons when it moved, so every worker on every machine
    follows a change made by the CLI or another worker without a restart.
    """

    __tablename__ = "core_registry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class User(Model):
    """A person who signs in. Roles, departments and scopes arrive with the access-control core."""

    __tablename__ = "core_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(16), default="zh_CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def label(self) -> str:
        return self.display_name or self.username


class LoginSession(Base):
    """A signed-in browser. The cookie holds only this row's random id, so signing out (or an
    admin disabling the user) ends the session everywhere, and every login gets a new id."""

    __tablename__ = "core_login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
