"""The customers addon's forms. WTForms checks shapes; the services keep the rules (a name
taken, a credit code wrong), and ``save_form`` shows their refusals beside these fields."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import BooleanField, DateField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from core.i18n import _
from core.web.forms import KehuForm

LEVEL_CHOICES = [("", "—"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]
DEAL_CHOICES = [("open", _("Not won yet")), ("won", _("Won"))]
FOLLOWUP_KINDS = [("phone", _("Phone call")), ("visit", _("Visit")), ("wechat", _("WeChat")),
                  ("email", _("Email")), ("other", _("Other"))]
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class CustomerForm(KehuForm):
    name = StringField(_("Customer name"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(_("Short name"), validators=[Optional(), Length(max=100)])
    credit_code = StringField(_("Unified social credit code"), validators=[Optional(), Length(max=30)])
    level = SelectField(_("Level"), choices=LEVEL_CHOICES, validators=[Optional()])
    key_customer = BooleanField(_("Key customer"))
    deal_status = SelectField(_("Deal status"), choices=DEAL_CHOICES)
    industry = StringField(_("Industry"), validators=[Optional(), Length(max=100)])
    source = StringField(_("Source"), validators=[Optional(), Length(max=100)])
    province = StringField(_("Province"), validators=[Optional(), Length(max=50)])
    city = StringField(_("City"), validators=[Optional(), Length(max=50)])
    district = StringField(_("District"), validators=[Optional(), Length(max=50)])
    address = StringField(_("Address"), validators=[Optional(), Length(max=300)])
    website = StringField(_("Website"), validators=[Optional(), Length(max=200)])
    remarks = TextAreaField(_("Remarks"), validators=[Optional(), Length(max=5000)])

    def values(self) -> dict[str, Any]:
        """What the services take, blanks as None."""
        return {name: (field.data or None) if name not in ("key_customer", "deal_status") else field.data
                for name, field in self._fields.items()}


class ContactForm(KehuForm):
    name = StringField(_("Name"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_("Job title"), validators=[Optional(), Length(max=100)])
    mobile = StringField(_("Mobile"), validators=[Optional(), Length(max=20)])
    phone = StringField(_("Phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_("Email"), validators=[Optional(), Length(max=200),
                                                Regexp(r"^[^@\s]+@[^@\s]+$", message=_("Not an e-mail address."))])
    wechat = StringField(_("WeChat"), validators=[Optional(), Length(max=100)])
    birthday = DateField(_("Birthday"), validators=[Optional()])
    primary = BooleanField(_("Primary contact"))

    def values(self) -> dict[str, Any]:
        return {name: field.data if name == "primary" else (field.data or None) for name, field in self._fields.items()}


class FollowupForm(KehuForm):
    """快速跟进: type and content, optionally when and what comes next."""

    kind = SelectField(_("Type"), choices=FOLLOWUP_KINDS)
    content = TextAreaField(_("Content"), validators=[DataRequired(), Length(max=5000)])
    next_at = DateTimeLocalField(_("Next follow-up"), format=LOCAL_FORMATS, validators=[Optional()])
    next_step = StringField(_("Next step"), validators=[Optional(), Length(max=200)])


def to_utc(value: dt.datetime | None, timezone: str | None) -> dt.datetime | None:
    """A naive local time from a form, read in the user's time zone, as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(timezone or "Asia/Shanghai")).astimezone(dt.UTC)


class ReturnForm(KehuForm):
    """放入公海: the pool (choices set by the view) and the reason, which the service requires."""

    pool_id = SelectField(_("Pool"), coerce=int, validate_choice=True)
    reason = TextAreaField(_("Reason"), validators=[Optional(), Length(max=500)])


def _days(label: Any) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=3650)])


class PoolForm(KehuForm):
    """A pool's rules (admin): blank limits mean no limit, blank return rules no automatic return.
    ``department_id`` 0 is company-wide (choices set by the view)."""

    name = StringField(_("Pool name"), validators=[DataRequired(), Length(max=100)])
    department_id = SelectField(_("Department"), coerce=int)
    max_owned = _days(_("Most customers owned per person"))
    max_claims_per_day = _days(_("Most claims per day"))
    reclaim_block_days = _days(_("Days before a previous owner may reclaim"))
    return_after_days_without_followup = _days(_("Return after days without follow-up"))
    return_after_days_without_deal = _days(_("Return after days without a deal"))
    warn_days_before = _days(_("Warn the owner days before"))
    active = BooleanField(_("Active"), default=True)

    def values(self) -> dict[str, Any]:
        values = {name: field.data for name, field in self._fields.items()}
        values["department_id"] = values["department_id"] or None
        return values
