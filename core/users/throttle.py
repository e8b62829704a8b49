"""Lockout of password guessing (X10): per account name and per IP address, after 5 failures,
with a delay that doubles at each further failure (30 s, 1 min, 2 min … at most 1 hour).

Keys exist whether or not the account does, so the lockout never tells which names are real.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import delete

from core.context import Ctx
from core.models import LoginThrottle
from core.users.exceptions import LoginLocked

FREE_ATTEMPTS = 5
FIRST_DELAY = dt.timedelta(seconds=30)
LONGEST_DELAY = dt.timedelta(hours=1)
FORGET_AFTER = dt.timedelta(hours=24)


def throttle_keys(username: str, ip: str) -> list[str]:
    keys = [f"user:{username.strip().lower()[:150]}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


def check_not_locked(ctx: Ctx, username: str, ip: str) -> None:
    """Raise LoginLocked (with the minutes left) if the account name or the address is locked."""
    for key in throttle_keys(username, ip):
        row = ctx.dbsession.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > ctx.now:
            minutes = max(1, math.ceil((row.locked_until - ctx.now).total_seconds() / 60))
            raise LoginLocked(minutes=minutes)


def record_failure(ctx: Ctx, username: str, ip: str) -> bool:
    """Count a failed sign-in; return True if it locked the account name or the address."""
    locked = False
    for key in throttle_keys(username, ip):
        # populate_existing: if this session still holds the row as read before the lock was
        # taken, count from the locked, current value (else another worker's failure is lost).
        row = ctx.dbsession.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0)
            ctx.dbsession.add(row)
        elif row.last_failure_at is not None and ctx.now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = ctx.now
        if row.failures >= FREE_ATTEMPTS:
            delay = min(FIRST_DELAY * 2 ** (row.failures - FREE_ATTEMPTS), LONGEST_DELAY)
            row.locked_until = ctx.now + delay
            locked = True
    ctx.dbsession.flush()
    return locked


def clear_failures(ctx: Ctx, username: str) -> None:
    """A successful sign-in clears the account's count (not the address's: one good account
    must not reset a guesser's counter)."""
    ctx.dbsession.execute(delete(LoginThrottle).where(LoginThrottle.key == throttle_keys(username, "")[0]))
