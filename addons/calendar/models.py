"""Tables of the calendar addon: calendar items (events, tasks and memos), their participants,
reminders, and each user's secret iCalendar feed.

One table holds events and tasks: the agenda, reminders, recurrence, scopes and the follow-up
plans of other addons treat them alike, and a task is an item with a due time (``start_at``)
that can be done. Times are stored in UTC; ``tzid`` is the zone the item was entered in, which
recurrence expands in (so "every Monday 09:00" stays 09:00 there across daylight saving) and
all-day items are anchored to. All-day items use ``start_date`` / ``end_date`` (inclusive) and
are the same calendar days for every reader, whatever their time zone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access.scopes import Owned
from core.db import Model, UTCDateTime
from core.i18n import _
from core.models import User

KINDS = ("event", "task")
#: The type decides the colour; "followup" items are the follow-up plans of other addons.
TYPES = ("visit", "call", "meeting", "memo", "followup", "other")
RESPONSES = ("pending", "accepted", "declined")


#: The longest span of an item that is not ``wide`` (an all-day item's span is widened by up to
#: 26 hours of zone offsets, so a week of days still fits).
NARROW_SPAN = dt.timedelta(days=9)


class CalendarItem(Model, Owned):
    """An event (start–end, or whole days) or a task (due at ``start_at``, done at ``done_at``).

    ``rrule`` (RFC 5545 RRULE text) makes the item a series; ``exdates`` holds the keys of
    occurrences deleted or edited alone — an edited one is its own item with ``series_id`` and
    ``recurrence_key``. An occurrence key is the occurrence's local start in ``tzid``
    (``2026-12-07T09:00``), or its date for all-day items.

    ``span_start`` / ``span_end`` (UTC) bound every occurrence, all-day ones widened by the
    widest zone offsets, so one indexed range finds what a window may show; the exact test is
    done in Python. ``span_end`` is empty for a series without an end.

    ``wide`` marks the few items whose span is longer than ``NARROW_SPAN`` (series, events of
    many days): a window finds the others by ``span_start`` in [window start − NARROW_SPAN,
    window end) — a short range of the index whatever the calendar's size — and the wide ones
    by their own short index entries (benchmarks/calendar_views.py).
    """

    __tablename__ = "calendar_item"
    access_key = "calendar.item"
    __table_args__ = (Index("ix_calendar_item_owner_span", "owner_id", "wide", "span_start"),
                      Index("ix_calendar_item_span", "wide", "span_start"),
                      Index("ix_calendar_item_source", "source", "source_id"),
                      Index("ix_calendar_item_related", "related_table", "related_id"))

    kind: Mapped[str] = mapped_column(String(10), default="event", info={"label": _("Kind")})
    type: Mapped[str] = mapped_column(String(10), default="other", info={"label": _("Type")})
    title: Mapped[str] = mapped_column(String(200), info={"label": _("Title")})
    location: Mapped[str | None] = mapped_column(String(200), info={"label": _("Location")})
    description: Mapped[str | None] = mapped_column(Text, info={"label": _("Description")})
    private: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _("Private")})
    all_day: Mapped[bool] = mapped_column(Boolean, default=False, info={"label": _("All day")})
    tzid: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai", info={"label": _("Time zone")})
    start_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Start")})
    end_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("End")})
    start_date: Mapped[dt.date | None] = mapped_column(Date, info={"label": _("Start date")})
    end_date: Mapped[dt.date | None] = mapped_column(Date, info={"label": _("End date")})
    span_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    span_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    wide: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, info={"label": _("Done")})
    rrule: Mapped[str | None] = mapped_column(String(300), info={"label": _("Repeat")})
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_item.id", ondelete="SET NULL"), index=True)
    recurrence_key: Mapped[str | None] = mapped_column(String(20))
    #: The record the item is about, any addon's: its table and id (``customers_customer``, 12),
    #: titled and linked through ``kehu_record_links``.
    related_table: Mapped[str | None] = mapped_column(String(64))
    related_id: Mapped[int | None] = mapped_column(Integer)
    #: What put the item here, when another addon did (``customers.plan``, plan id): completing,
    #: moving or deleting it is told back through ``calendar_item_changed``.
    source: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(Integer)
    #: The external UID of an item imported from or exported to iCalendar.
    uid: Mapped[str | None] = mapped_column(String(255), index=True)

    owner: Mapped[User | None] = relationship(foreign_keys="CalendarItem.owner_id", lazy="raise")
    attendees: Mapped[list[Attendee]] = relationship(lazy="raise", cascade="all, delete-orphan",
                                                     order_by="Attendee.id")
    reminders: Mapped[list[Reminder]] = relationship(lazy="raise", cascade="all, delete-orphan",
                                                     order_by="Reminder.minutes_before")


class Attendee(Model):
    """A participant (参与人) of an event and their answer."""

    __tablename__ = "calendar_attendee"
    __table_args__ = (Index("uq_calendar_attendee_item_user", "item_id", "user_id", unique=True),
                      Index("ix_calendar_attendee_user", "user_id"))

    item_id: Mapped[int] = mapped_column(ForeignKey("calendar_item.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    response: Mapped[str] = mapped_column(String(10), default="pending", info={"label": _("Response")})

    user: Mapped[User] = relationship(foreign_keys="Attendee.user_id", lazy="raise")


class Reminder(Model):
    """One reminder offset of an item. ``next_key`` / ``next_fire_at`` name the occurrence the
    reminder fires for next and when; the job takes a reminder by a conditional update on
    ``next_key``, so each occurrence is reminded once however many workers run it."""

    __tablename__ = "calendar_reminder"
    __table_args__ = (Index("ix_calendar_reminder_next_fire", "next_fire_at"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("calendar_item.id", ondelete="CASCADE"), index=True)
    minutes_before: Mapped[int] = mapped_column(Integer, info={"label": _("Minutes before")})
    next_key: Mapped[str | None] = mapped_column(String(20))
    next_fire_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Feed(Model):
    """A user's secret iCalendar subscription (订阅) URL: only the token's SHA-256 is kept, so
    the database does not hold a working URL; revoking deletes the row."""

    __tablename__ = "calendar_feed"

    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
