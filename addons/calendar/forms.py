"""The item form: what the user enters, in their own time zone, turned into ``ItemData`` in the
item's zone. WTForms checks shapes (a date that is no date); the services keep the rules (end
before start, a disabled participant …) and ``save_form`` shows their refusals beside these
fields."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from pyramid.request import Request
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.i18n import _
from core.lists.views import active_users
from core.web.forms import KehuForm

from . import recurrence
from .exceptions import (
    EditModeInvalid,
    EndBeforeStart,
    FieldTooLong,
    KindInvalid,
    ParticipantUnavailable,
    RelatedUnavailable,
    ReminderInvalid,
    RepeatInvalid,
    StartRequired,
    TitleRequired,
    TooLong,
    TooManyParticipants,
    UnknownZone,
)
from .services import ItemData
from .times import to_utc, wall

TYPE_LABELS = {"visit": _("Visit"), "call": _("Call"), "meeting": _("Meeting"), "memo": _("Memo"),
               "followup": _("Follow-up"), "other": _("Other")}
KIND_LABELS = {"event": _("Event"), "task": _("Task")}
REMINDER_CHOICES = [(0, _("At the start")), (5, _("5 minutes before")), (15, _("15 minutes before")),
                    (30, _("30 minutes before")), (60, _("1 hour before")), (120, _("2 hours before")),
                    (1440, _("1 day before")), (2880, _("2 days before")), (10080, _("1 week before"))]
FREQ_CHOICES = [("", _("Does not repeat")), ("DAILY", _("Daily")), ("WEEKLY", _("Weekly")),
                ("MONTHLY", _("Monthly")), ("YEARLY", _("Yearly"))]
WEEKDAY_CHOICES = [("MO", _("Mon")), ("TU", _("Tue")), ("WE", _("Wed")), ("TH", _("Thu")), ("FR", _("Fri")),
                   ("SA", _("Sat")), ("SU", _("Sun"))]
END_CHOICES = [("never", _("Never")), ("until", _("On a date")), ("count", _("After a number of times"))]
MODE_CHOICES = [("one", _("This occurrence")), ("following", _("This and the following")),
                ("all", _("All occurrences"))]
#: Which field shows a service's refusal.
ERRORS = {TitleRequired: "title", FieldTooLong: "title", StartRequired: "start_date", EndBeforeStart: "end_date",
          TooLong: "end_date", UnknownZone: "start_date", KindInvalid: "type", RepeatInvalid: "repeat_freq",
          ReminderInvalid: "reminders", ParticipantUnavailable: "participants",
          TooManyParticipants: "participants", RelatedUnavailable: "title", EditModeInvalid: "mode"}


class ItemForm(KehuForm):
    title = StringField(_("Title"), validators=[DataRequired(), Length(max=200)])
    kind = RadioField(_("Kind"), choices=list(KIND_LABELS.items()), default="event")
    type = SelectField(_("Type"), choices=[(k, v) for k, v in TYPE_LABELS.items() if k != "followup"],
                       default="other", validate_choice=False)
    all_day = BooleanField(_("All day"))
    start_date = DateField(_("Start date"), validators=[DataRequired()])
    start_time = TimeField(_("Start time"), validators=[Optional()])
    end_date = DateField(_("End date"), validators=[Optional()])
    end_time = TimeField(_("End time"), validators=[Optional()])
    location = StringField(_("Location"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_("Description"), validators=[Optional(), Length(max=5000)])
    private = BooleanField(_("Private"), description=_("Only you and the participants see it."))
    participants = SelectMultipleField(_("Participants"), coerce=int, choices=[], validate_choice=False)
    reminders = SelectMultipleField(_("Reminders"), coerce=int, choices=REMINDER_CHOICES, validate_choice=False)
    repeat_freq = SelectField(_("Repeat"), choices=FREQ_CHOICES, default="", validate_choice=False)
    repeat_interval = IntegerField(_("Every"), validators=[Optional(), NumberRange(1, recurrence.MAX_INTERVAL)],
                                   default=1)
    repeat_weekdays = SelectMultipleField(_("On"), choices=WEEKDAY_CHOICES, validate_choice=False)
    repeat_end = RadioField(_("Ends"), choices=END_CHOICES, default="never", validate_choice=False)
    repeat_until = DateField(_("Until"), validators=[Optional()])
    repeat_count = IntegerField(_("Times"), validators=[Optional(), NumberRange(1, recurrence.MAX_COUNT)])
    mode = RadioField(_("Change"), choices=MODE_CHOICES, default="one", validate_choice=False)
    related = StringField(_("Linked record"), validators=[Optional(), Length(max=80)])

    def data_in(self, reader_tz: zoneinfo.ZoneInfo, item_tzid: str) -> ItemData:
        """The entry as the services take it: the reader's wall times moved to the item's zone
        (an all-day item's dates stay), the repetition as RRULE text."""
        item_tz = zoneinfo.ZoneInfo(item_tzid)
        all_day, kind = bool(self.all_day.data), self.kind.data or "event"
        start_date = self.start_date.data
        end_date = self.end_date.data or start_date
        start = end = None
        if not all_day:
            start = _moved(dt.datetime.combine(start_date, self.start_time.data or dt.time(9)), reader_tz, item_tz)
            if kind == "event" and (self.end_time.data or self.end_date.data):
                end = _moved(dt.datetime.combine(end_date, self.end_time.data or self.start_time.data or dt.time(10)),
                             reader_tz, item_tz)
        table, _sep, record = (self.related.data or "").partition(":")
        return ItemData(
            title=self.title.data or "", kind=kind, type=self.type.data or "other", all_day=all_day, tzid=item_tzid,
            start=start, end=end, start_date=start_date if all_day else None,
            end_date=end_date if all_day else None, location=self.location.data or "",
            description=self.description.data or "", private=bool(self.private.data), rrule=self.rule(),
            participants=tuple(self.participants.data or ()), reminders=tuple(self.reminders.data or ()),
            related_table=table or None, related_id=int(record) if record.isdigit() else None)

    def rule(self) -> str | None:
        if not self.repeat_freq.data or self.kind.data == "task":
            return None
        end = self.repeat_end.data
        return recurrence.Repeat(
            freq=self.repeat_freq.data, interval=self.repeat_interval.data or 1,
            weekdays=tuple(self.repeat_weekdays.data or ()),
            until=self.repeat_until.data if end == "until" else None,
            count=self.repeat_count.data if end == "count" else None).rule()

    def show(self, data: ItemData, reader_tz: zoneinfo.ZoneInfo, related: str = "") -> None:
        """Fill the form with an item (or an occurrence of it) in the reader's zone."""
        item_tz = zoneinfo.ZoneInfo(data.tzid)
        self.title.data, self.kind.data, self.type.data = data.title, data.kind, data.type
        self.all_day.data, self.private.data = data.all_day, data.private
        self.location.data, self.description.data = data.location, data.description
        self.participants.data, self.reminders.data = list(data.participants), list(data.reminders)
        if data.all_day:
            self.start_date.data, self.end_date.data = data.start_date, data.end_date
        else:
            start = _moved(data.start, item_tz, reader_tz)  # type: ignore[arg-type]
            self.start_date.data, self.start_time.data = start.date(), start.time()
            if data.end is not None:
                end = _moved(data.end, item_tz, reader_tz)
                self.end_date.data, self.end_time.data = end.date(), end.time()
        repeat = recurrence.describe(data.rrule)
        if repeat is not None:
            self.repeat_freq.data, self.repeat_interval.data = repeat.freq, repeat.interval
            self.repeat_weekdays.data = list(repeat.weekdays)
            self.repeat_until.data, self.repeat_count.data = repeat.until, repeat.count
            self.repeat_end.data = "until" if repeat.until else "count" if repeat.count else "never"
        self.related.data = related


def item_form(request: Request, **initial: Any) -> ItemForm:
    """The form with this company's active users to invite."""
    form = ItemForm.for_request(request, **initial)
    me = request.ctx.user.id if request.ctx.user is not None else None
    form.participants.choices = [(user_id, name) for user_id, name in active_users(request.ctx) if user_id != me]
    return form


def _moved(local: dt.datetime, source: zoneinfo.ZoneInfo, target: zoneinfo.ZoneInfo) -> dt.datetime:
    """A wall time in ``source`` as the wall time of the same moment in ``target``."""
    if source.key == target.key:
        return local
    return wall(to_utc(local, source), target)
