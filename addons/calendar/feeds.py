"""Each user's secret subscription (订阅) feed: a URL with a random token that a calendar app
polls without signing in.

Only the token's SHA-256 is stored, so the database never holds a working URL and a token is
found by an indexed equality on its hash (nothing to time, unlike comparing secrets). The URL is
shown once, when it is made; making a new one replaces the hash (the old URL stops working) and
revoking deletes the row. A feed of a disabled user, or of one who may no longer read calendars,
answers exactly as an unknown token does.

The feed is the owner's own calendar as the owner sees it — their items and the invitations
they have not declined, private ones included, others' private items never — from 90 days back
to 400 days ahead, series whole (RRULE, not expanded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select

from core.audit.services import write_audit
from core.context import Ctx
from core.models import User

from .models import CalendarItem, Feed
from .occurrences import item_loads, owned_or_invited, visible_condition

TOKEN_BYTES = 32
#: ``last_used_at`` is written at most this often: apps poll every few minutes.
STAMP_EVERY = dt.timedelta(hours=1)
PAST = dt.timedelta(days=90)
AHEAD = dt.timedelta(days=400)
#: A feed never carries more items than this (the oldest first are kept).
MAX_FEED_ITEMS = 5000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(ctx: Ctx) -> Feed | None:
    """The user's feed row (without its token, which is not kept), if they have one."""
    if ctx.user is None:
        return None
    return ctx.dbsession.scalar(select(Feed).where(Feed.user_id == ctx.user.id))


def make_token(ctx: Ctx) -> str:
    """A new secret token for the user's feed, replacing the old one; returned once."""
    ctx.access.require("calendar.item:read")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = feed_of(ctx)
    renewed = feed is not None
    if feed is None:
        feed = Feed(user_id=ctx.user.id)  # type: ignore[union-attr]
        ctx.dbsession.add(feed)
    feed.token_hash = hash_token(token)
    feed.last_used_at = None
    ctx.dbsession.flush()
    write_audit(ctx, "update" if renewed else "create", model=Feed.__tablename__, record_id=feed.id,
                detail="new subscription link" if renewed else "subscription link")
    return token


def revoke(ctx: Ctx) -> bool:
    """Delete the user's feed; False when there was none."""
    feed = feed_of(ctx)
    if feed is None:
        return False
    write_audit(ctx, "delete", model=Feed.__tablename__, record_id=feed.id, detail="subscription link")
    ctx.dbsession.delete(feed)
    ctx.dbsession.flush()
    return True


def owner_of(ctx: Ctx, token: str) -> User | None:
    """The active user whose feed ``token`` opens, who may read calendars; else None. Stamps
    ``last_used_at`` at most once per ``STAMP_EVERY``."""
    if not token or len(token) > 200:
        return None
    feed = ctx.dbsession.scalar(select(Feed).where(Feed.token_hash == hash_token(token)))
    if feed is None:
        return None
    user = ctx.dbsession.get(User, feed.user_id)
    if user is None or not user.active or not ctx.as_user(user).access.can("calendar.item:read"):
        return None
    if feed.last_used_at is None or ctx.now - feed.last_used_at >= STAMP_EVERY:
        feed.last_used_at = ctx.now
    return user


def feed_items(ctx: Ctx) -> list[CalendarItem]:
    """What the feed of ``ctx.user`` carries: their own items and the invitations they have
    not declined, visible to them, meeting [now − 90 days, now + 400 days)."""
    me = ctx.user.id  # type: ignore[union-attr]
    after, before = ctx.now - PAST, ctx.now + AHEAD
    query = (select(CalendarItem)
             .where(visible_condition(ctx), CalendarItem.id.in_(owned_or_invited([me], after, before)))
             .options(*item_loads()).order_by(CalendarItem.span_start, CalendarItem.id).limit(MAX_FEED_ITEMS))
    return list(ctx.dbsession.scalars(query))
