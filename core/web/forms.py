"""WTForms glue: forms validate in the reader's language (WTForms' own catalogs for its
built-in messages, ours for the rest)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pyramid.i18n import TranslationString
from pyramid.request import Request
from wtforms import Form, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from core.exceptions import KehuError
from core.i18n import LOCALES, _

T = TypeVar("T")


class KehuForm(Form):
    """Base form: bind with ``KehuForm.for_request(request)`` to get POST data and the locale."""

    @classmethod
    def for_request(cls, request: Request, **kwargs: Any) -> KehuForm:
        formdata = request.POST if request.method == "POST" else None
        return translate_choices(cls(formdata, meta={"locales": [request.locale_name, "en"]}, **kwargs), request)


def translate_choices(form: Any, request: Request) -> Any:
    """Declared choices' labels (``_("Phone call")``) in the reader's language: WTForms renders
    an option's label with ``str()``, which would show the English."""
    translate = request.localizer.translate
    for field in form:
        choices = getattr(field, "choices", None)
        if isinstance(choices, list) and any(isinstance(choice[1], TranslationString) for choice in choices
                                             if isinstance(choice, tuple) and len(choice) > 1):
            field.choices = [(choice[0], translate(choice[1]), *choice[2:])
                             if isinstance(choice, tuple) and isinstance(choice[1], TranslationString) else choice
                             for choice in choices]
    return form


def show_error(request: Request, form: KehuForm, exc: KehuError, fields: Mapping[type[KehuError], str]) -> None:
    """Put a service's refusal beside the field it concerns (``fields``), else on top of the page."""
    field = fields.get(type(exc))
    if field is not None and field in form:
        form[field].errors.append(exc.translation_string)
    else:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")


def flash_done(request: Request, message: Any) -> None:
    request.session.flash(request.localizer.translate(message), "success")


def blank_form(form_class: type[KehuForm], request: Request, **data: Any) -> Any:
    """A form that shows ``data`` and ignores the request's POST (which belongs to another form)."""
    return translate_choices(form_class(None, meta={"locales": [request.locale_name, "en"]}, **data), request)


def save_form(request: Request, form: KehuForm, save: Callable[[], T],
              fields: Mapping[type[KehuError], str] | None = None) -> T | None:
    """Validate ``form`` and run ``save()`` (the addon's service call) in a savepoint.

    Returns what ``save`` returned, or None when the form is invalid or the service refused:
    then the errors sit beside their fields (WTForms' own, and a refusal mapped by ``fields``)
    and nothing of the attempt is written. The caller re-renders the form on None."""
    if request.method != "POST" or not form.validate():
        return None
    try:
        with request.dbsession.begin_nested():
            return save()
    except KehuError as exc:
        show_error(request, form, exc, fields or {})
        return None


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
