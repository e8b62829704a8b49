"""The opportunity form. WTForms checks shapes; the services keep the rules (an amount that is no
amount, a stage of another pipeline), and ``save_form`` shows their refusals beside the fields."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from sqlalchemy import select
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.access.members import members_of
from core.customfields.forms import fill_custom, with_custom_fields
from core.customfields.services import values_for
from core.i18n import _
from core.models import User
from core.web.forms import KehuForm

from . import pipelines
from .models import Opportunity


class OpportunityForm(KehuForm):
    title = StringField(_("Opportunity"), validators=[DataRequired(), Length(max=200)])
    amount = StringField(_("Amount"), validators=[Optional(), Length(max=20)],
                         description=_("In yuan, e.g. 50000 or 1,200.50."))
    expected_close = StringField(_("Expected close"), validators=[Optional(), Length(max=10)])
    stage_id = SelectField(_("Stage"), coerce=int, validate_choice=False)
    probability = IntegerField(_("Probability (%)"), validators=[Optional(), NumberRange(min=0, max=100)],
                               description=_("Blank: the stage's."))
    competitor = StringField(_("Competitor"), validators=[Optional(), Length(max=200)])
    products = TextAreaField(_("Products of interest"), validators=[Optional(), Length(max=5000)])
    description = TextAreaField(_("Description"), validators=[Optional(), Length(max=5000)])
    collaborators = SelectMultipleField(_("Collaborators"), coerce=int, validate_choice=False,
                                        description=_("Colleagues working it with the owner: they may edit it and "
                                                      "hear of its stage changes."))

    def values(self) -> dict[str, Any]:
        """The opportunity's own fields for the services (stage and collaborators apart)."""
        skip = {"stage_id", "collaborators"}
        return {name: (field.data if field.data != "" else None) for name, field in self._fields.items()
                if name not in skip and not name.startswith("cf_")}


def opportunity_form(request: Request, opportunity: Opportunity | None = None) -> OpportunityForm:
    """The form with custom fields; a new opportunity picks its first stage among the offered
    pipelines' open stages (later moves go through the page and the board, with their history)."""
    ctx = request.ctx
    form = with_custom_fields(OpportunityForm, ctx, Opportunity).for_request(request, obj=opportunity)
    if opportunity is not None and request.method != "POST":
        fill_custom(form, values_for(ctx, Opportunity, [opportunity.id])[opportunity.id])
        form.amount.data = f"{opportunity.amount:f}"
        form.expected_close.data = opportunity.expected_close.isoformat() if opportunity.expected_close else ""
        form.collaborators.data = [m.user_id for m in members_of(ctx, opportunity)]
    if opportunity is not None:
        form.stage_id.choices = []  # moved on the page and the board, with its history
    else:
        form.stage_id.choices = [(s.id, f"{p.name} · {s.name}") for p in pipelines.pipelines_for(ctx)
                                 for s in pipelines.open_stages(p)]
    form.collaborators.choices = [(id_, display or username) for id_, display, username in ctx.dbsession.execute(
        select(User.id, User.display_name, User.username).where(User.active.is_(True)).order_by(User.username)
        .limit(500))]
    return form
