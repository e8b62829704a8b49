"""WTForms glue: forms validate in the reader's language (WTForms' own catalogs for its
built-in messages, ours for the rest)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from pyramid.request import Request
from wtforms import Form, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from core.i18n import LOCALES, _


class KehuForm(Form):
    """Base form: bind with ``KehuForm.for_request(request)`` to get POST data and the locale."""

    @classmethod
    def for_request(cls, request: Request, **kwargs: Any) -> KehuForm:
        formdata = request.POST if request.method == "POST" else None
        return cls(formdata, meta={"locales": [request.locale_name, "en"]}, **kwargs)


class LoginForm(KehuForm):
    username = StringField(_("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_("Password"), validators=[DataRequired(), Length(max=256)])


COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


class PreferencesForm(KehuForm):
    locale = SelectField(_("Language"), choices=list(LOCALES.items()))
    timezone = SelectField(
        _("Time zone"),
        choices=[(tz, tz) for tz in COMMON_TIMEZONES]
        + sorted((tz, tz) for tz in zoneinfo.available_timezones() if tz not in COMMON_TIMEZONES and "/" in tz),
    )
