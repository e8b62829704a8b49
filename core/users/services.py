"""User services: create, change password, disable, sign in and out.

The same functions serve the login page, the ``kehu user`` commands and the tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import zoneinfo

from sqlalchemy import delete, select

from core.context import Ctx
from core.contributions import RecordChange
from core.i18n import LOCALES
from core.models import LoginSession, User
from core.users.exceptions import (
    InvalidLogin,
    InvalidUsername,
    UnknownTimezone,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
)
from core.users.passwords import (
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)

USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")


def create_user(
    ctx: Ctx,
    username: str,
    password: str,
    *,
    display_name: str = "",
    email: str | None = None,
    is_admin: bool = False,
    locale: str = "zh_CN",
    timezone: str = "Asia/Shanghai",
) -> User:
    username = username.strip()
    if not USERNAME.match(username):
        raise InvalidUsername()
    if ctx.dbsession.scalar(select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(username=username)
    _check_password(password)
    _check_timezone(timezone)
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        email=email or None,
        is_admin=is_admin,
        locale=locale if locale in LOCALES else "zh_CN",
        timezone=timezone,
    )
    ctx.dbsession.add(user)
    ctx.dbsession.flush()
    ctx.hooks.kehu_record_changed(
        ctx=ctx,
        change=RecordChange("created", User.__tablename__, user.id, {"username": (None, username)},
                            user_id=ctx.user.id if ctx.user else None, at=ctx.now),
    )
    return user


def get_user_by_username(ctx: Ctx, username: str) -> User:
    user = ctx.dbsession.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(username=username)
    return user


def set_password(ctx: Ctx, user: User, password: str) -> None:
    """Change the password and end every login session of the user."""
    _check_password(password)
    user.password_hash = hash_password(password)
    ctx.dbsession.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    _changed(ctx, user, {"password": ("***", "***")})


def set_active(ctx: Ctx, user: User, active: bool) -> None:
    """Enable or disable; disabling ends the user's sessions at once."""
    before = user.active
    user.active = active
    if not active:
        ctx.dbsession.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    _changed(ctx, user, {"active": (before, active)})


def update_preferences(ctx: Ctx, user: User, *, locale: str | None = None, timezone: str | None = None) -> None:
    changes = {}
    if locale is not None and locale in LOCALES and locale != user.locale:
        changes["locale"] = (user.locale, locale)
        user.locale = locale
    if timezone is not None and timezone != user.timezone:
        _check_timezone(timezone)
        changes["timezone"] = (user.timezone, timezone)
        user.timezone = timezone
    if changes:
        _changed(ctx, user, changes)


def authenticate(ctx: Ctx, username: str, password: str) -> User:
    """Return the active user with these credentials, or raise InvalidLogin (same message and
    similar timing whether the username exists or not, so accounts cannot be enumerated)."""
    user = ctx.dbsession.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        verify_password(dummy_hash(), password)
        raise InvalidLogin()
    if not verify_password(user.password_hash, password):
        raise InvalidLogin()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = ctx.now
    return user


def start_login_session(ctx: Ctx, user: User, *, max_age: int, user_agent: str = "") -> str:
    """Create a login session; return the random token the cookie carries (stored hashed)."""
    token = secrets.token_urlsafe(32)
    ctx.dbsession.add(
        LoginSession(
            id=_token_hash(token),
            user_id=user.id,
            created_at=ctx.now,
            expires_at=ctx.now + dt.timedelta(seconds=max_age),
            user_agent=user_agent[:255],
        )
    )
    return token


def user_for_token(ctx: Ctx, token: str) -> User | None:
    row = ctx.dbsession.execute(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.id == _token_hash(token), LoginSession.expires_at > ctx.now, User.active.is_(True))
    ).scalar_one_or_none()
    return row


def end_login_session(ctx: Ctx, token: str) -> None:
    ctx.dbsession.execute(delete(LoginSession).where(LoginSession.id == _token_hash(token)))


def purge_expired_sessions(ctx: Ctx) -> int:
    result = ctx.dbsession.execute(delete(LoginSession).where(LoginSession.expires_at <= ctx.now))
    return result.rowcount or 0


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(min_length=MIN_PASSWORD_LENGTH)


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UnknownTimezone(timezone=name) from None


def _changed(ctx: Ctx, user: User, changes: dict) -> None:
    ctx.dbsession.flush()
    ctx.hooks.kehu_record_changed(
        ctx=ctx,
        change=RecordChange("updated", User.__tablename__, user.id, changes,
                            user_id=ctx.user.id if ctx.user else None, at=ctx.now),
    )
