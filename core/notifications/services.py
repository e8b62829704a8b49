"""Sending notifications and reading one's own.

``notify`` is what addons call. For each recipient it looks up the channels they want for the
kind (their ``NotificationPreference`` rows, else the kind's defaults): ``app`` stores a
``Notification`` row (the bell, the notifications page), ``email`` enqueues one
``core.send_email`` job, which renders and sends the mail in the recipient's language when it
runs. Everything happens in the caller's transaction: a change that rolls back notifies no one.

The reading services act on the caller's own notifications only; ids of other users'
notifications are ignored, never refused, so they cannot be probed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from pyramid.i18n import Localizer, TranslationString
from sqlalchemy import func, select, update

from core.context import Ctx
from core.contributions import NotificationKind
from core.i18n import localizer_for
from core.jobs.queue import enqueue
from core.models import User
from core.notifications.exceptions import UnknownNotificationChannel, UnknownNotificationKind
from core.notifications.kinds import APP, CHANNELS, EMAIL, get_kind, notification_kinds
from core.notifications.mail import EMAIL_JOB, mail_configured
from core.notifications.models import Notification, NotificationPreference

PAGE_SIZE = 30
#: At most this many ids are marked read by one call (a page holds far fewer).
MARK_READ_LIMIT = 500
TITLE_LENGTH = 200  # Notification.title

Message = str | TranslationString


def notify(
    ctx: Ctx,
    users: Iterable[User | int],
    kind: str,
    record: Any = None,
    message: Message = "",
    *,
    title: Message | None = None,
    url: str | None = None,
) -> list[Notification]:
    """Tell ``users`` (users or their ids) about ``record`` through the channels each wants
    for ``kind``; return the in-app notifications created.

    ``title`` defaults to the kind's title; ``title`` and ``message`` may be translation
    strings (``_("Customer ${name} is yours", mapping=...)``), stored in each recipient's
    language. ``url`` is a path inside Kehu (``/customers/42``). Inactive users are skipped;
    mail goes only to users with an address, and only when SMTP is set up (``kehu.smtp_host``).
    Raises ``UnknownNotificationKind`` for a kind no installed addon declares."""
    declared = get_kind(ctx, kind)
    _check_url(url)
    recipients = _active_users(ctx, users)
    if not recipients:
        return []
    wanted = _wanted_channels(ctx, [user.id for user in recipients], declared)
    mail_on = mail_configured(ctx.settings)
    model, record_id = _record_key(record)
    created: list[Notification] = []
    mails: list[tuple[User, Notification | None, dict[str, Any]]] = []
    for user in recipients:
        channels = wanted[user.id]
        localizer = localizer_for(user.locale)
        content = {
            "kind": kind,
            "title": _shorten(_in_language(localizer, title if title is not None else declared.title), TITLE_LENGTH),
            "body": _in_language(localizer, message),
            "url": url,
        }
        row = None
        if APP in channels:
            row = Notification(user_id=user.id, model=model, record_id=record_id, created_at=ctx.now, **content)
            ctx.dbsession.add(row)
            created.append(row)
        if EMAIL in channels and mail_on and user.email:
            mails.append((user, row, content))
    if created:
        ctx.dbsession.flush()  # the ids the mail jobs name
    for user, row, content in mails:
        # The recipient's text is the row's, when there is one; else it travels in the payload.
        payload = {"notification_id": row.id} if row is not None else dict(content)
        enqueue_email(ctx, {"user_id": user.id, **payload, "key": f"kehu.notification.{secrets.token_hex(12)}"})
    return created


def enqueue_email(ctx: Ctx, payload: dict[str, Any]) -> None:
    """Queue one notification mail (``core.notifications.mail.send_notification_email`` sends it)."""
    enqueue(ctx, EMAIL_JOB, payload)


def unread_count(ctx: Ctx) -> int:
    if ctx.user is None:
        return 0
    query = select(func.count()).select_from(Notification).where(
        Notification.user_id == ctx.user.id, Notification.read_at.is_(None))
    return ctx.dbsession.scalar(query) or 0


def list_notifications(
    ctx: Ctx, before_id: int | None = None, *, unread_only: bool = False, limit: int = PAGE_SIZE
) -> list[Notification]:
    """The caller's notifications, newest first, ``limit`` of them older than ``before_id``."""
    if ctx.user is None:
        return []
    query = select(Notification).where(Notification.user_id == ctx.user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return list(ctx.dbsession.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(ctx: Ctx, ids: Iterable[int]) -> int:
    """Mark the caller's notifications among ``ids`` read; return how many were unread."""
    wanted = sorted({int(i) for i in ids})[:MARK_READ_LIMIT]
    if ctx.user is None or not wanted:
        return 0
    return _mark(ctx, Notification.id.in_(wanted))


def mark_all_read(ctx: Ctx) -> int:
    if ctx.user is None:
        return 0
    return _mark(ctx)


def _mark(ctx: Ctx, *conditions: Any) -> int:
    result = ctx.dbsession.execute(
        update(Notification)
        .where(Notification.user_id == ctx.user.id, Notification.read_at.is_(None), *conditions)
        .values(read_at=ctx.now)
    )
    return result.rowcount or 0


def notification_settings(ctx: Ctx) -> list[tuple[NotificationKind, dict[str, bool]]]:
    """Every declared kind with the caller's choice per channel (their own, else the default)."""
    if ctx.user is None:
        return []
    user_id = ctx.user.id
    chosen = _chosen(ctx, [user_id])
    return [(kind, {channel: _enabled(chosen, user_id, kind, channel) for channel in CHANNELS})
            for kind in notification_kinds(ctx).values()]


def set_preferences(ctx: Ctx, choices: Mapping[tuple[str, str], bool]) -> None:
    """Store the caller's choices, ``{(kind, channel): enabled}``; pairs not given keep theirs."""
    if ctx.user is None:
        return
    kinds = notification_kinds(ctx)
    for kind, channel in choices:
        if kind not in kinds:
            raise UnknownNotificationKind(kind=kind)
        if channel not in CHANNELS:
            raise UnknownNotificationChannel(channel=channel)
    existing = {(row.kind, row.channel): row for row in ctx.dbsession.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == ctx.user.id))}
    for (kind, channel), enabled in choices.items():
        row = existing.get((kind, channel))
        if row is None:
            ctx.dbsession.add(NotificationPreference(user_id=ctx.user.id, kind=kind, channel=channel,
                                                     enabled=bool(enabled)))
        else:
            row.enabled = bool(enabled)


def email_available(ctx: Ctx) -> bool:
    """Can the caller get mail at all: SMTP is set up and they have an address."""
    return mail_configured(ctx.settings) and ctx.user is not None and bool(ctx.user.email)


# -- helpers ------------------------------------------------------------------------------------

def _active_users(ctx: Ctx, users: Iterable[User | int]) -> list[User]:
    ids = {user.id if isinstance(user, User) else int(user) for user in users}
    if not ids:
        return []
    return list(ctx.dbsession.scalars(
        select(User).where(User.id.in_(sorted(ids)), User.active.is_(True)).order_by(User.id)))


def _chosen(ctx: Ctx, user_ids: list[int], kind: str | None = None) -> dict[tuple[int, str, str], bool]:
    query = select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
    if kind is not None:
        query = query.where(NotificationPreference.kind == kind)
    return {(row.user_id, row.kind, row.channel): row.enabled for row in ctx.dbsession.scalars(query)}


def _wanted_channels(ctx: Ctx, user_ids: list[int], kind: NotificationKind) -> dict[int, set[str]]:
    chosen = _chosen(ctx, user_ids, kind.key)
    return {user_id: {channel for channel in CHANNELS if _enabled(chosen, user_id, kind, channel)}
            for user_id in user_ids}


def _enabled(chosen: Mapping[tuple[int, str, str], bool], user_id: int, kind: NotificationKind, channel: str) -> bool:
    """The user's own choice, else the kind's default."""
    return chosen.get((user_id, kind.key, channel), channel in kind.default_channels)


def _record_key(record: Any) -> tuple[str, str]:
    if record is None:
        return "", ""
    return getattr(record, "__tablename__", type(record).__name__), str(record.id)


def _check_url(url: str | None) -> None:
    """Only paths inside Kehu: a notification never leads off-site."""
    if url is not None and (not url.startswith("/") or url.startswith(("//", "/\\"))):
        raise ValueError(f"notification url must be a path inside Kehu, not {url!r}")


def _in_language(localizer: Localizer, message: Message) -> str:
    if isinstance(message, TranslationString):
        return localizer.translate(message)
    return str(message)


def _shorten(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1] + "…"
