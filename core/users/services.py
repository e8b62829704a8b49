"""User services: create, change password, disable, sign in and out.

The same functions serve the login page, the ``kehu user`` commands and the tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import zoneinfo
from collections.abc import Iterable
from typing import NoReturn

from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from core.audit.services import write_audit
from core.context import Ctx
from core.contributions import RecordChange
from core.i18n import LOCALES
from core.models import LoginSession, Role, User, UserRole
from core.users.exceptions import (
    CommonPassword,
    InvalidLogin,
    InvalidUsername,
    UnknownTimezone,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from core.users.passwords import (
    MIN_POLICY_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from core.users.throttle import check_not_locked, clear_failures, record_failure

SEEN_RESOLUTION = dt.timedelta(minutes=1)

USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")


def create_user(
    ctx: Ctx,
    username: str,
    password: str,
    *,
    display_name: str = "",
    email: str | None = None,
    roles: Iterable[str] = ("sales",),
    department_id: int | None = None,
    post: str = "",
    locale: str = "zh_CN",
    timezone: str = "Asia/Shanghai",
    password_hash: str | None = None,
) -> User:
    """Create a user with the given role keys (salesperson by default). ``password_hash``:
    ``hash_password(password)`` made once for several users with one password (the demo's
    eleven), since a hash costs ~0.3 s by design; the policy is still checked on ``password``."""
    ctx.access.require("core.user:write")
    username = username.strip()
    if not USERNAME.match(username):
        raise InvalidUsername()
    if ctx.dbsession.scalar(select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(username=username)
    check_password_policy(password, username=username)
    _check_timezone(timezone)
    wanted_roles = set(roles)
    role_rows = list(ctx.dbsession.scalars(select(Role).where(Role.key.in_(sorted(wanted_roles)))))
    unknown = wanted_roles - {role.key for role in role_rows}
    if unknown:
        from core.access.exceptions import UnknownRole

        raise UnknownRole(key=", ".join(sorted(unknown)))
    if "admin" in wanted_roles and not ctx.access.superuser:
        from core.access.exceptions import PermissionDenied

        raise PermissionDenied(permission="admin")
    if department_id is not None:
        from core.org.exceptions import DepartmentDisabled
        from core.org.services import get_department

        department = get_department(ctx, department_id)
        if not department.active:
            raise DepartmentDisabled(name=department.name)
    user = User(
        username=username,
        password_hash=password_hash or hash_password(password),
        display_name=display_name.strip(),
        email=email or None,
        department_id=department_id,
        post=post.strip(),
        locale=locale if locale in LOCALES else "zh_CN",
        timezone=timezone,
    )
    ctx.dbsession.add(user)
    ctx.dbsession.flush()
    ctx.dbsession.add_all(UserRole(user_id=user.id, role_id=role.id) for role in role_rows)
    ctx.dbsession.flush()
    ctx.dbsession.refresh(user, ["roles"])
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
    """Change the password (the user's own, or any with ``core.user:write``) and end every
    login session of the user."""
    if ctx.user is None or ctx.user.id != user.id:
        ctx.access.require("core.user:write")
    check_password_policy(password, username=user.username)
    user.password_hash = hash_password(password)
    end_all_sessions(ctx, user)
    write_audit(ctx, "password_change", model=User.__tablename__, record_id=user.id)


def set_active(ctx: Ctx, user: User, active: bool) -> None:
    """Enable or disable; disabling ends the user's sessions at once. The last active
    administrator cannot be disabled."""
    ctx.access.require("core.user:write")
    before = user.active
    if before == active:
        return
    if not active and user.is_admin:
        from core.access.roles import ensure_another_admin

        ensure_another_admin(ctx, user)
    user.active = active
    if not active:
        end_all_sessions(ctx, user)
    _changed(ctx, user, {"active": (before, active)})


def end_all_sessions(ctx: Ctx, user: User) -> int:
    """Sign the user out everywhere ("log out all my sessions", password change, disable)."""
    result = ctx.dbsession.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    return result.rowcount or 0


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
    similar timing whether the username exists or not, so accounts cannot be enumerated).

    Locked names and addresses get LoginLocked before any password is checked; every failure
    is counted and audited (the audit entry is committed even though the sign-in failed)."""
    username = username.strip()
    check_not_locked(ctx, username, ctx.ip)
    user = ctx.dbsession.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        verify_password(dummy_hash(), password)
        _failed(ctx, username, user)
    if not verify_password(user.password_hash, password):
        _failed(ctx, username, user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if not user.totp_enabled:
        # With two-factor sign-in on, the password alone is not a successful sign-in: the count
        # is cleared after the code (core.users.totp), else each right password would reset
        # the count of wrong codes and give a guesser unlimited tries.
        clear_failures(ctx, username)
    return user


def _failed(ctx: Ctx, username: str, user: User | None) -> NoReturn:
    count_failed_sign_in(ctx, username, user)
    raise InvalidLogin()


def count_failed_sign_in(ctx: Ctx, username: str, user: User | None, *, detail: str = "") -> bool:
    """Count a failure (wrong password, wrong second-factor code) against the name and the
    address and write it to the audit log, with ``login_locked`` if it locked either. The
    caller raises its own error; the entries are kept because the view answers normally."""
    locked = record_failure(ctx, username, ctx.ip)
    text = f"{username[:64]} ({detail})" if detail else username[:64]
    write_audit(ctx, "login_failed", model=User.__tablename__, record_id=user.id if user else "",
                detail=text, user=user)
    if locked:
        write_audit(ctx, "login_locked", model=User.__tablename__, record_id=user.id if user else "",
                    detail=text, user=user)
    return locked


def verify_current_password(ctx: Ctx, user: User, password: str) -> None:
    """The signed-in user proves it is still them (password change, turning off two-factor).
    Wrong guesses count like failed sign-ins, so a borrowed session cannot guess the password."""
    check_not_locked(ctx, user.username, ctx.ip)
    if not verify_password(user.password_hash, password):
        count_failed_sign_in(ctx, user.username, user, detail="current password")
        raise WrongPassword()


def count_live_sessions(ctx: Ctx, user: User) -> int:
    """How many browsers are signed in as ``user`` (expired rows not yet purged are not counted;
    sessions past the idle timeout are, until their next request removes them)."""
    return ctx.dbsession.scalar(
        select(func.count()).select_from(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.expires_at > ctx.now)
    ) or 0


def complete_login(ctx: Ctx, user: User, *, max_age: int, user_agent: str = "") -> str:
    """The password (and second factor) are right: record it and open a login session."""
    user.last_login_at = ctx.now
    write_audit(ctx, "login", model=User.__tablename__, record_id=user.id, user=user)
    return start_login_session(ctx, user, max_age=max_age, user_agent=user_agent)


def start_login_session(ctx: Ctx, user: User, *, max_age: int, user_agent: str = "") -> str:
    """Create a login session; return the random token the cookie carries (stored hashed).
    ``max_age`` is the absolute timeout: the session ends then, however active."""
    token = secrets.token_urlsafe(32)
    ctx.dbsession.add(
        LoginSession(
            id=_token_hash(token),
            user_id=user.id,
            created_at=ctx.now,
            expires_at=ctx.now + dt.timedelta(seconds=max_age),
            last_seen_at=ctx.now,
            user_agent=user_agent[:255],
        )
    )
    return token


def user_for_token(ctx: Ctx, token: str, *, idle_timeout: dt.timedelta | None = None,
                   touch: bool = True) -> User | None:
    """The active user of a live session, or None (expired, idle too long, ended, disabled).

    ``last_seen_at`` is written at most once a minute, so reading pages costs no write; a
    background poll passes ``touch=False`` so an open tab alone never keeps a session alive."""
    row = ctx.dbsession.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.id == _token_hash(token), LoginSession.expires_at > ctx.now, User.active.is_(True))
        .options(joinedload(User.roles))  # every request checks them: one round trip, not two
    ).unique().one_or_none()
    if row is None:
        return None
    user, login_session = row
    seen = login_session.last_seen_at or login_session.created_at
    if idle_timeout is not None and ctx.now - seen > idle_timeout:
        ctx.dbsession.delete(login_session)
        return None
    if touch and ctx.now - seen > SEEN_RESOLUTION:
        login_session.last_seen_at = ctx.now
    return user


def end_login_session(ctx: Ctx, token: str) -> None:
    ctx.dbsession.execute(delete(LoginSession).where(LoginSession.id == _token_hash(token)))


def purge_expired_sessions(ctx: Ctx) -> int:
    result = ctx.dbsession.execute(delete(LoginSession).where(LoginSession.expires_at <= ctx.now))
    return result.rowcount or 0


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_policy(password: str, *, username: str = "") -> None:
    """At least 10 characters, not among the 30,000 most common, not containing the username."""
    problem = password_problem(password, username=username)
    if problem == "short":
        raise WeakPassword(min_length=MIN_POLICY_LENGTH)
    if problem == "common":
        raise CommonPassword()


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


def update_user(ctx: Ctx, user: User, *, display_name: str, email: str | None, department_id: int | None,
                post: str) -> None:
    """An administrator's edit of a user's name, e-mail, department and post (岗位)."""
    ctx.access.require("core.user:write")
    changes = {}
    if department_id is not None and department_id != user.department_id:
        from core.org.exceptions import DepartmentDisabled
        from core.org.services import get_department

        department = get_department(ctx, department_id)
        if not department.active:
            raise DepartmentDisabled(name=department.name)
    for field, value in (("display_name", display_name.strip()), ("email", (email or "").strip() or None),
                         ("department_id", department_id), ("post", post.strip())):
        if getattr(user, field) != value:
            changes[field] = (getattr(user, field), value)
            setattr(user, field, value)
    if changes:
        _changed(ctx, user, changes)
