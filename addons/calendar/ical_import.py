"""Importing an .ics file into the user's own calendar: a preview that says, row by row, what
will be created and what will not (and why), then all of it created in one go.

The preview and the import read the same file the same way (``plan``), so what the user
confirmed is what is written; nothing is kept between the two steps but the uploaded file.
Items keep the file's UID, and a UID the user already has (an earlier import, or an item of
their own exported from here) is skipped, so importing a file twice adds nothing.

A changed occurrence (RECURRENCE-ID) of a series in the same file becomes the series' own
exception, as an edit of one occurrence would (its key skipped in the series, ``series_id`` and
``recurrence_key`` set); a cancelled one is only skipped in the series. Without its series in
the file it is a single item.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from pyramid.i18n import TranslationString
from sqlalchemy import or_, select

from core.changes import record_changed
from core.context import Ctx
from core.exceptions import KehuError
from core.i18n import _

from . import recurrence, reminders, services
from .ical import Entry, local_key, own_id, own_uid, read_calendar
from .models import CalendarItem
from .services import ItemData


@dataclasses.dataclass(frozen=True)
class Row:
    """A preview row: the entry, the data it will be created with (checked), or the reason it
    will not (``problem``). ``series`` is the number of the entry this one changes an
    occurrence of (``key``)."""

    entry: Entry
    data: ItemData | None = None
    problem: TranslationString | None = None
    series: int | None = None
    key: str | None = None

    @property
    def importable(self) -> bool:
        return self.data is not None and self.problem is None


@dataclasses.dataclass(frozen=True)
class Plan:
    rows: list[Row]

    @property
    def importable(self) -> list[Row]:
        return [row for row in self.rows if row.importable]


def plan(ctx: Ctx, content: bytes) -> Plan:
    """Read ``content`` for the user and check every entry as ``create_item`` would.
    IcsTooLarge / IcsInvalid for the file as a whole."""
    entries = read_calendar(content, ctx.user.timezone if ctx.user is not None else "Asia/Shanghai")
    known = _known_uids(ctx, {e.uid for e in entries if e.uid})
    masters: dict[str, Row] = {}
    rows: list[Row] = []
    for entry in entries:
        if entry.recurrence_id is not None:
            continue
        row = _checked(ctx, entry, known)
        if entry.uid and row.problem is None:
            if entry.uid in masters:
                row = dataclasses.replace(row, problem=_("the same UID is earlier in the file"))
            else:
                masters[entry.uid] = row
        rows.append(row)
    for entry in entries:
        if entry.recurrence_id is not None:
            rows.append(_override(ctx, entry, masters.get(entry.uid or ""), known))
    rows.sort(key=lambda row: row.entry.number)
    return Plan(rows)


def apply(ctx: Ctx, found: Plan) -> list[CalendarItem]:
    """Create the plan's importable rows (the caller's transaction: all or nothing)."""
    created: dict[int, CalendarItem] = {}
    skipped: dict[int, list[str]] = {}
    for row in found.rows:
        if row.series is not None and row.key is not None:
            skipped.setdefault(row.series, []).append(row.key)
    for row in found.importable:
        if row.series is None:
            item = services.create_item(ctx, row.data, uid=row.entry.uid)  # type: ignore[arg-type]
            created[row.entry.number] = item
    for row in found.importable:
        if row.series is not None:
            alone = services.create_item(ctx, row.data)  # type: ignore[arg-type]
            alone.series_id, alone.recurrence_key = created[row.series].id, row.key
            created[row.entry.number] = alone
    for number, item in created.items():
        entry = next(row.entry for row in found.rows if row.entry.number == number)
        keys = sorted({*entry.exdates, *skipped.get(number, ())}) if item.rrule else []
        if keys:
            item.exdates = keys
            ctx.dbsession.flush()
            record_changed(ctx, "updated", item, {"exdates": ([], keys)})
            reminders.schedule(ctx, item)
        if entry.done and item.kind == "task" and ctx.access.can("calendar.item:write"):
            services.set_done(ctx, item.id)
    ctx.dbsession.flush()
    return list(created.values())


def _checked(ctx: Ctx, entry: Entry, known: set[str]) -> Row:
    if entry.problem is not None:
        return Row(entry, problem=entry.problem)
    if entry.cancelled:
        return Row(entry, problem=_("it is cancelled"))
    if entry.uid and entry.uid in known:
        return Row(entry, problem=_("already in your calendar (the same UID)"))
    try:
        services.check(ctx, entry.data, ctx.user.id if ctx.user is not None else None)  # type: ignore[arg-type]
    except KehuError as exc:
        return Row(entry, problem=exc.translation_string)
    return Row(entry, data=entry.data)


def _override(ctx: Ctx, entry: Entry, master: Row | None, known: set[str]) -> Row:
    """A changed (or cancelled) occurrence: part of its series when that is imported too."""
    if master is None or not master.importable or not master.data.rrule:  # type: ignore[union-attr]
        if master is not None:
            return Row(entry, problem=_("its series is not imported"))
        return _checked(ctx, entry, known)
    data = master.data
    start = data.start if data.start is not None else dt.datetime.combine(data.start_date, dt.time())  # type: ignore[arg-type]
    key = local_key(entry.recurrence_id, data.tzid, data.all_day, start)  # type: ignore[arg-type]
    if not recurrence.occurs_at(data.rrule, start, recurrence.parse_key(key)):  # not one of its dates
        return _checked(ctx, dataclasses.replace(entry, uid=None), known)
    if entry.cancelled:
        return Row(entry, problem=_("a cancelled occurrence: left out of its series"), series=master.entry.number,
                   key=key)
    row = _checked(ctx, dataclasses.replace(entry, uid=None, exdates=()), known)
    if not row.importable:
        return dataclasses.replace(row, entry=entry)
    return dataclasses.replace(row, entry=entry, data=dataclasses.replace(row.data, rrule=None),  # type: ignore[arg-type]
                               series=master.entry.number, key=key)


def _known_uids(ctx: Ctx, uids: set[str]) -> set[str]:
    """The file's UIDs the user already has: items of theirs with that UID, or their own items
    exported from here (``kehu-calendar-<id>@kehu``)."""
    if not uids or ctx.user is None:
        return set()
    ids = {own_id(uid) for uid in uids} - {None}
    condition = CalendarItem.uid.in_(sorted(uids))
    if ids:
        condition = or_(condition, CalendarItem.id.in_(sorted(ids)))  # type: ignore[arg-type]
    rows = ctx.dbsession.execute(select(CalendarItem.id, CalendarItem.uid).where(
        CalendarItem.owner_id == ctx.user.id, condition))
    return {uid for item_id, stored in rows for uid in (stored, own_uid(item_id)) if uid} & uids


def when_text(data: ItemData, reader_tz: str) -> str:
    """The row's time as the preview shows it, in the zone it will be kept in (named when it is
    not the reader's)."""
    if data.all_day:
        text = data.start_date.isoformat()  # type: ignore[union-attr]
        if data.end_date and data.end_date != data.start_date:
            text += f" – {data.end_date.isoformat()}"
        return text
    text = data.start.strftime("%Y-%m-%d %H:%M")  # type: ignore[union-attr]
    if data.end is not None and data.end != data.start:
        text += " – " + data.end.strftime("%H:%M" if data.end.date() == data.start.date() else "%Y-%m-%d %H:%M")  # type: ignore[union-attr]
    if data.tzid != reader_tz:
        text += f" ({data.tzid})"
    return text
