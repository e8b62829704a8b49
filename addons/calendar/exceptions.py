"""Errors a user can meet in the calendar; forms show each beside its field, the API as a
problem document."""

from core.exceptions import KehuError
from core.i18n import _


class TitleRequired(KehuError):
    message = _("Give the item a title.")


class FieldTooLong(KehuError):
    message = _("${field} is too long: at most ${limit} characters.")


class StartRequired(KehuError):
    message = _("Give a start time (or a date for an all-day item).")


class EndBeforeStart(KehuError):
    message = _("The end cannot be before the start.")


class TooLong(KehuError):
    message = _("An event lasts at most ${days} days.")


class UnknownZone(KehuError):
    message = _("Unknown time zone: ${timezone}.")


class KindInvalid(KehuError):
    message = _("Unknown kind or type: ${value}.")


class RepeatInvalid(KehuError):
    message = _("The repetition is not valid: ${problem}.")


class ReminderInvalid(KehuError):
    message = _("A reminder is from 0 minutes to 30 days before, at most ${limit} per item.")


class ParticipantUnavailable(KehuError):
    http_status = 422
    message = _("${name} cannot take part: the account is disabled or does not exist.")


class TooManyParticipants(KehuError):
    message = _("At most ${limit} participants.")


class NotAParticipant(KehuError):
    http_status = 403
    message = _("Only a participant can answer an invitation.")


class RelatedUnavailable(KehuError):
    http_status = 422
    message = _("The linked record does not exist or you may not see it.")


class OccurrenceUnknown(KehuError):
    http_status = 404
    message = _("This series has no occurrence at that time.")


class EditModeInvalid(KehuError):
    message = _("Choose this occurrence, this and the following ones, or the whole series.")


class NotATask(KehuError):
    http_status = 409
    message = _("Only a task can be marked done.")


class WindowInvalid(KehuError):
    message = _("Give a window with “from” before “to”, at most ${days} days long.")


class IcsInvalid(KehuError):
    message = _("The file is not a valid iCalendar (.ics) file: ${problem}.")


class IcsTooLarge(KehuError):
    message = _("The file is too large: at most ${limit} items and ${size} MB.")
