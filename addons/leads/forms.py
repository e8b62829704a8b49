"""The leads addon's forms. WTForms checks shapes; the services keep the rules (a budget that is
no amount, a source not in the list), and ``save_form`` shows their refusals beside these
fields. The follow-up form is the customers addon's own: one quick-add for both."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from addons.customers import choices, regions
from addons.customers.form_options import BLANK
from core.customfields.forms import fill_custom, with_custom_fields
from core.customfields.services import values_for
from core.i18n import _
from core.web.forms import KehuForm

from . import tags
from .lists import SETTABLE_STATUSES
from .models import Lead


class LeadForm(KehuForm):
    name = StringField(_("Company name"), validators=[DataRequired(), Length(max=200)])
    contact_name = StringField(_("Contact"), validators=[Optional(), Length(max=100)])
    mobile = StringField(_("Mobile"), validators=[Optional(), Length(max=20)])
    phone = StringField(_("Phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_("Email"), validators=[Optional(), Length(max=200),
                                                Regexp(r"^[^@\s]+@[^@\s]+$", message=_("Not an e-mail address."))])
    wechat = StringField(_("WeChat"), validators=[Optional(), Length(max=100)])
    status = SelectField(_("Status"), choices=SETTABLE_STATUSES)
    # 培育: checked by the services (1–365), so text or 0 gets their message beside the field
    nurture_days = StringField(_("Nurture every (days)"), validators=[Optional(), Length(max=10)],
                               description=_("While the lead is nurtured, the next follow-up is due this many days "
                                             "after the last one (30 if empty)."))
    # the lists' and regions' choices are set per request (``prepare``); the services check the values
    source = SelectField(_("Lead source"), choices=[BLANK], validate_choice=False)
    industry = SelectField(_("Industry"), choices=[BLANK], validate_choice=False)
    level = SelectField(_("Level"), choices=[BLANK], validate_choice=False)
    province = SelectField(_("Province"), choices=[BLANK], validate_choice=False)
    city = SelectField(_("City"), choices=[BLANK], validate_choice=False)
    address = StringField(_("Address"), validators=[Optional(), Length(max=300)])
    budget = StringField(_("Expected budget"), validators=[Optional(), Length(max=20)],
                         description=_("In yuan, e.g. 50000 or 1,200.50."))
    requirement = TextAreaField(_("Requirement"), validators=[Optional(), Length(max=5000)])
    remarks = TextAreaField(_("Remarks"), validators=[Optional(), Length(max=5000)])
    tag_names = StringField(_("Tags"), validators=[Optional(), Length(max=700)],
                            description=_("Separated by commas; a new tag is created as you save."))

    def values(self) -> dict[str, Any]:
        """What ``services.create_lead`` / ``update_lead`` take, blanks as None; the tags as
        ``tags`` (an empty text removes them all)."""
        values = {name: field.data or None for name, field in self._fields.items()
                  if name != "tag_names" and not name.startswith("cf_")}
        return {**values, "tags": self.tag_names.data or ""}


def lead_form(request: Request, lead: Lead | None = None) -> LeadForm:
    """The lead form with today's custom fields and the lists' choices, holding the lead's values
    on GET (its deactivated list values and unknown regions stay visible, so saving keeps them)."""
    ctx = request.ctx
    form = with_custom_fields(LeadForm, ctx, Lead).for_request(request, obj=lead)
    if lead is not None and request.method != "POST":
        fill_custom(form, values_for(ctx, Lead, [lead.id])[lead.id])
        form.budget.data = f"{lead.budget:f}" if lead.budget is not None else ""
        form.tag_names.data = ", ".join(tags.tag_names(ctx, lead.id))
    for kind in choices.KINDS:
        field = form[kind]
        field.choices = [BLANK, *choices.options(ctx, kind, field.data or getattr(lead, kind, None))]
    province = form.province.data or None
    for field, found in ((form.province, regions.provinces()), (form.city, regions.cities(province))):
        names = [r.name for r in found]
        if field.data and field.data not in names:
            names.append(field.data)
        field.choices = [BLANK, *((name, name) for name in names)]
    return form


class ReturnForm(KehuForm):
    """退回: the pool (choices set by the view) and the reason, which the service requires."""

    pool_id = SelectField(_("Lead pool"), coerce=int, validate_choice=True)
    reason = TextAreaField(_("Reason"), validators=[Optional(), Length(max=500)])


class ConvertForm(KehuForm):
    """转化 (L4): a new customer from the lead, or an existing one (a 查重 candidate the reader
    may see, chosen by the view). The lead's contact person always becomes a contact."""

    customer = RadioField(_("Customer"), choices=[("new", _("Create a new customer"))], default="new",
                          validate_choice=False)
