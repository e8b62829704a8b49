"""The customers addon's forms. WTForms checks shapes; the services keep the rules (a name
taken, a credit code wrong), and ``save_form`` shows their refusals beside these fields."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

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
    level = SelectField(_("Level"), choices=LEVEL_CHOICES, validators=[Optional()], validate_choice=False)
    key_customer = BooleanField(_("Key customer"))
    deal_status = SelectField(_("Deal status"), choices=DEAL_CHOICES)
    # the lists' and regions' choices are set per request (form_options.prepare); the services
    # check the values, so a refusal shows beside its select
    industry = SelectField(_("Industry"), choices=[("", "—")], validate_choice=False)
    source = SelectField(_("Source"), choices=[("", "—")], validate_choice=False)
    province = SelectField(_("Province"), choices=[("", "—")], validate_choice=False)
    city = SelectField(_("City"), choices=[("", "—")], validate_choice=False)
    district = SelectField(_("District"), choices=[("", "—")], validate_choice=False)
    tag_names = StringField(_("Tags"), validators=[Optional(), Length(max=700)],
                       description=_("Separated by commas; a new tag is created as you save."))
    address = StringField(_("Address"), validators=[Optional(), Length(max=300)])
    website = StringField(_("Website"), validators=[Optional(), Length(max=200)])
    remarks = TextAreaField(_("Remarks"), validators=[Optional(), Length(max=5000)])

    def values(self) -> dict[str, Any]:
        """What the services take, blanks as None; ``tag_names`` go to ``tags.set_customer_tags``."""
        return {name: (field.data or None) if name not in ("key_customer", "deal_status") else field.data
                for name, field in self._fields.items() if name != "tag_names" and not name.startswith("cf_")}


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
    max_locked = _days(_("Most locked customers per person"))
    active = BooleanField(_("Active"), default=True)
    # D-POOL membership (choices set by the view): managers assign and read the history
    managers = SelectMultipleField(_("Pool managers"), coerce=int)
    member_users = SelectMultipleField(_("Member users"), coerce=int)
    member_departments = SelectMultipleField(_("Member departments"), coerce=int,
                                             description=_("With the departments below them. A pool naming "
                                                           "nobody is open to everyone."))

    MEMBERSHIP = ("managers", "member_users", "member_departments")

    def values(self) -> dict[str, Any]:
        """The pool's own fields for ``pool.save_pool``; the membership goes to ``pool_members``."""
        values = {name: field.data for name, field in self._fields.items() if name not in self.MEMBERSHIP}
        values["department_id"] = values["department_id"] or None
        return values


class PlanMoveForm(KehuForm):
    """改期: a follow-up plan's new due time, in the user's time zone."""

    due_at = DateTimeLocalField(_("New time"), format=LOCAL_FORMATS, validators=[InputRequired()])


class TeamForm(KehuForm):
    """团队成员: who (choices set by the view), read-write or read-only, until which day."""

    user_id = SelectField(_("Colleague"), coerce=int, validate_choice=True)
    can_write = BooleanField(_("May edit"))
    until = DateField(_("Until"), validators=[Optional()])


class AssignForm(KehuForm):
    """分配 / 转移 one customer: the new owner (choices set by the view)."""

    owner_id = SelectField(_("New owner"), coerce=int, validate_choice=False)  # the services decide who may
