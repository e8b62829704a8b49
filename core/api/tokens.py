"""Personal access tokens: create (shown once), list, revoke; and authenticating a request by one.

A token is ``kehu_`` and 43 random URL-safe characters. Only its SHA-256 is stored, with the
first 8 random characters (``prefix``) so lists can tell tokens apart. A token acts as its user
with the user's roles; the ``read`` scope refuses every unsafe method, ``write`` allows them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from sqlalchemy import case, literal, select, update
from sqlalchemy.orm import Session

from core.access.exceptions import RecordNotFound
from core.api.exceptions import InvalidTokenExpiry, InvalidTokenName, InvalidTokenScope
from core.api.models import ApiToken
from core.audit.services import write_audit
from core.context import Ctx
from core.db import UTCDateTime
from core.models import User

TOKEN_PREFIX = "kehu_"  # noqa: S105 (marks a Kehu token for secret scanners; not a secret)
SCOPES = {"read": "read", "write": "read write"}
MAX_EXPIRY_DAYS = 366
NAME_LENGTH = 100
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def create_token(ctx: Ctx, user: User, name: str, scope: str, expires_days: int) -> tuple[str, ApiToken]:
    """A new token for ``user`` (oneself, or anyone with ``core.user:write``); returns the token,
    to show once, and its row. ``scope`` is "read" or "write" (which includes read)."""
    _require_self_or(ctx, user, "core.user:write")
    name = name.strip()
    if not 1 <= len(name) <= NAME_LENGTH:
        raise InvalidTokenName(max_length=NAME_LENGTH)
    if scope not in SCOPES:
        raise InvalidTokenScope()
    if isinstance(expires_days, bool) or not isinstance(expires_days, int) or \
            not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise InvalidTokenExpiry(max_days=MAX_EXPIRY_DAYS)
    secret = secrets.token_urlsafe(32)
    token = TOKEN_PREFIX + secret
    row = ApiToken(user_id=user.id, name=name, token_hash=token_hash(token), prefix=secret[:8],
                   scopes=SCOPES[scope], expires_at=ctx.now + dt.timedelta(days=expires_days),
                   created_at=ctx.now, rate_window=0, rate_count=0)
    ctx.dbsession.add(row)
    ctx.dbsession.flush()
    write_audit(ctx, "create", model=ApiToken.__tablename__, record_id=row.id,
                changes={"user": [None, user.username], "name": [None, name], "scopes": [None, row.scopes],
                         "expires_at": [None, row.expires_at]})
    return token, row


def revoke_token(ctx: Ctx, row: ApiToken) -> None:
    """Stop the token at once (its owner, or anyone with ``core.user:write``). Idempotent."""
    _require_self_or(ctx, row.user, "core.user:write")
    if row.revoked_at is not None:
        return
    row.revoked_at = ctx.now
    ctx.dbsession.flush()
    write_audit(ctx, "update", model=ApiToken.__tablename__, record_id=row.id,
                changes={"revoked_at": [None, ctx.now]}, detail=f"revoked token {display_prefix(row)}")


def list_tokens(ctx: Ctx, user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first (one's own, or anyone's with ``core.user:read``)."""
    _require_self_or(ctx, user, "core.user:read")
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(ctx.dbsession.scalars(query))


def get_token(ctx: Ctx, token_id: int) -> ApiToken:
    """One's own token, or anyone's with ``core.user:read``; RecordNotFound otherwise."""
    row = ctx.dbsession.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if row is None or (not _is_self(ctx, row.user) and not ctx.access.can("core.user:read")):
        raise RecordNotFound()
    return row


def display_prefix(row: ApiToken) -> str:
    return f"{TOKEN_PREFIX}{row.prefix}…"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _is_self(ctx: Ctx, user: User) -> bool:
    return ctx.user is not None and ctx.user.id == user.id


def _require_self_or(ctx: Ctx, user: User, permission: str) -> None:
    if not _is_self(ctx, user):
        ctx.access.require(permission)


# -- authenticating a request ----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TokenUse:
    """A request's token, checked: whose it is, what it may do, and where it stands in its
    rate-limit window (``retry_after`` is set when the request is over the limit)."""

    token_id: int
    user_id: int
    scopes: frozenset[str]
    retry_after: int | None = None


def use_token(session: Session, token: str, *, now: dt.datetime, rate_limit: int, window: int) -> TokenUse | None:
    """Check ``token`` and count one request against it; None when it is unknown, expired,
    revoked or its user disabled. ``rate_limit`` requests per ``window`` seconds (0: no limit).

    One atomic UPDATE counts the request in the current fixed window and records the last use
    (at most once a minute), so concurrent requests on several workers count exactly. The
    caller runs this in its own short transaction, committed whatever the request's outcome:
    refused and failed requests count too."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(
        select(ApiToken.id, ApiToken.user_id, ApiToken.scopes)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at > now, User.active.is_(True))
    ).one_or_none()
    if row is None:
        return None
    token_id, user_id, scopes = row
    current = int(now.timestamp()) // window
    stamp = literal(now, UTCDateTime())
    count = session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(
            rate_count=case((ApiToken.rate_window == current, ApiToken.rate_count + 1), else_=1),
            rate_window=current,
            last_used_at=case(
                (ApiToken.last_used_at.is_(None) | (ApiToken.last_used_at < now - LAST_USED_RESOLUTION), stamp),
                else_=ApiToken.last_used_at),
        ).returning(ApiToken.rate_count).execution_options(synchronize_session=False)
    ).scalar_one()
    retry_after = None
    if rate_limit and count > rate_limit:
        retry_after = max(1, (current + 1) * window - int(now.timestamp()))
    return TokenUse(token_id=token_id, user_id=user_id, scopes=frozenset(scopes.split()), retry_after=retry_after)
