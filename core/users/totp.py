"""Optional two-factor sign-in with time-based one-time codes (RFC 6238, pyotp): any
authenticator app (Google/Microsoft Authenticator, 1Password, FreeOTP …) works.

Enrolment has two steps, so a typo while scanning cannot lock anyone out: ``begin`` stores a
new secret on the user (not yet in force), ``confirm`` turns it on once the app shows a valid
code. Codes of the previous and next 30-second step are accepted (clock drift).

Not done: refusing a code already used within its validity window (replay). That needs the
last accepted time step stored per user, and there is no column for it yet.
"""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import segno

from core.audit.services import write_audit
from core.context import Ctx
from core.models import User
from core.users.exceptions import InvalidTotpCode, TotpAlreadyEnabled
from core.users.services import count_failed_sign_in, verify_current_password
from core.users.throttle import check_not_locked, clear_failures

ISSUER = "Kehu CRM"
CODE = re.compile(r"^[0-9]{6}$")


def _require_self_or_admin(ctx: Ctx, user: User) -> None:
    if ctx.user is None or ctx.user.id != user.id:
        ctx.access.require("core.user:write")


def begin_totp_enrolment(ctx: Ctx, user: User) -> str:
    """Give ``user`` a new secret, not yet in force; return it (base32) for the QR code."""
    _require_self_or_admin(ctx, user)
    if user.totp_enabled:
        raise TotpAlreadyEnabled()
    user.totp_secret = pyotp.random_base32()
    ctx.dbsession.flush()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI the authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI (the CSP allows ``img-src data:``)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def confirm_totp(ctx: Ctx, user: User, code: str) -> None:
    """Turn two-factor sign-in on, if ``code`` matches the secret from ``begin``."""
    _require_self_or_admin(ctx, user)
    if user.totp_enabled:
        raise TotpAlreadyEnabled()
    if not user.totp_secret or not verify_totp(user, code, at=ctx.now):
        raise InvalidTotpCode()
    user.totp_enabled = True
    write_audit(ctx, "update", model=User.__tablename__, record_id=user.id, changes={"totp_enabled": [False, True]})


def verify_totp(user: User, code: str, *, at: dt.datetime | None = None) -> bool:
    """Is ``code`` (spaces ignored) valid now, or one 30-second step before or after?"""
    if not user.totp_secret:
        return False
    code = (code or "").replace(" ", "").strip()
    if not CODE.match(code):
        return False
    return pyotp.TOTP(user.totp_secret).verify(code, for_time=at, valid_window=1)


def authenticate_totp(ctx: Ctx, user: User, code: str) -> None:
    """The second step of a sign-in. A wrong code counts as a failed sign-in (throttle and
    audit log, like a wrong password); a locked name or address gets LoginLocked first."""
    check_not_locked(ctx, user.username, ctx.ip)
    if not user.active or not user.totp_enabled or not verify_totp(user, code, at=ctx.now):
        count_failed_sign_in(ctx, user.username, user, detail="verification code")
        raise InvalidTotpCode()
    clear_failures(ctx, user.username)


def disable_totp(ctx: Ctx, user: User, password: str) -> None:
    """Turn two-factor sign-in off; the user's current password is required (WrongPassword)."""
    _require_self_or_admin(ctx, user)
    verify_current_password(ctx, user, password)
    before = user.totp_enabled
    user.totp_enabled = False
    user.totp_secret = None
    if before:
        write_audit(ctx, "update", model=User.__tablename__, record_id=user.id,
                    changes={"totp_enabled": [True, False]})
