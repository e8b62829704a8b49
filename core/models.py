"""Tables of the core itself: addon install state and registry version; users, departments,
roles, grants and scopes; login sessions and throttles; the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.config_cache import config_model
from core.db import Base, Model, UTCDateTime, utcnow

ADMIN_ROLE = "admin"
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
    """Two counters: ``version``, bumped by every install, upgrade and uninstall, and
    ``config_version``, bumped by every write to a model whose rows each process keeps between
    requests (``core.config_cache``: role grants, choice lists, custom field definitions).

    Each app process compares them with the values it last saw (one primary-key read per
    request), reloads its set of installed addons when ``version`` moved and starts an empty
    cache when either did, so every worker on every machine follows a change made by the CLI
    or another worker without a restart.
    """

    __tablename__ = "core_registry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    config_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class User(Model):
    """A person who signs in. Roles, departments and scopes arrive with the access-control core."""

    __tablename__ = "core_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(16), default="zh_CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    department_id: Mapped[int | None] = mapped_column(  # use_alter: users and departments refer to each other
        ForeignKey("core_department.id", ondelete="RESTRICT", use_alter=True), default=None, index=True
    )
    post: Mapped[str] = mapped_column(String(64), default="")  # 岗位, e.g. 销售代表
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)

    roles: Mapped[list[Role]] = relationship(secondary="core_user_role", lazy="selectin", order_by="Role.id")
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id], lazy="joined")

    @property
    def label(self) -> str:
        return self.display_name or self.username

    @property
    def role_keys(self) -> frozenset[str]:
        return frozenset(role.key for role in self.roles)

    @property
    def is_admin(self) -> bool:
        """An administrator holds every permission, present and future."""
        return ADMIN_ROLE in self.role_keys


class LoginSession(Base):
    """A signed-in browser. The cookie holds only this row's random id, so signing out (or an
    admin disabling the user) ends the session everywhere, and every login gets a new id."""

    __tablename__ = "core_login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class Department(Model):
    """A node of the organisation tree. ``path`` ("/1/4/9/") lists the ids from the root down,
    so "this department and everything below it" is one indexed prefix match."""

    __tablename__ = "core_department"

    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_department.id", ondelete="RESTRICT"), default=None, index=True
    )
    path: Mapped[str] = mapped_column(String(255), default="/", index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id], lazy="joined")

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


@config_model
class Role(Model):
    """A set of permissions and record scopes. Built-in roles (``builtin``) are seeded and get
    the default grants of every permission an addon declares; their key cannot change."""

    __tablename__ = "core_role"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(255), default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    default_scope: Mapped[str] = mapped_column(String(20), default="own")


class UserRole(Base):
    __tablename__ = "core_user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True, index=True)


@config_model
class RolePermission(Base):
    __tablename__ = "core_role_permission"

    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(128), primary_key=True)


@config_model
class RoleScope(Base):
    """The record scope a role has on one kind of record (``customers.customer``), overriding
    the role's ``default_scope``."""

    __tablename__ = "core_role_scope"

    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True)
    model_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))


class DeclaredPermission(Base):
    """Every permission ever declared through ``kehu_permissions`` in this database. Default
    grants are given once, when a permission first appears, so an administrator's later
    changes to a built-in role are never undone by an upgrade."""

    __tablename__ = "core_permission"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginThrottle(Base):
    """Failed sign-ins per account name and per IP address, and until when each is locked."""

    __tablename__ = "core_login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEntry(Base):
    """One line of the append-only audit log (X5). Nothing in Kehu updates or deletes a row;
    on PostgreSQL a trigger refuses it. ``user_id`` is deliberately not a foreign key, so no
    cascade can ever rewrite history; ``username`` keeps the name as it was."""

    __tablename__ = "core_audit"
    __table_args__ = (
        Index("ix_core_audit_model_record", "model", "record_id"),
        Index("ix_core_audit_user_at", "user_id", "at"),
        Index("ix_core_audit_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    username: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128), default="")
    record_id: Mapped[str] = mapped_column(String(64), default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail: Mapped[str] = mapped_column(Text, default="")
