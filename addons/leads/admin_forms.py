"""Forms of the leads admin pages: a pool, an assignment rule (with its condition rows), the
rule's preview sample, a person's assignment settings. WTForms checks shapes; ``pool`` and
``assignment`` keep the rules, and ``save_form`` shows their refusals beside these fields."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from addons.customers.form_options import BLANK
from core.i18n import _
from core.web.forms import KehuForm

from .exceptions import AssigneeWeightInvalid, LeadPoolLimitInvalid

#: How a rule picks the owner, in words (``models.STRATEGIES``).
STRATEGY_LABELS = {"user": _("A named user"), "round_robin": _("Round robin in a department"),
                   "least_loaded": _("Fewest open leads in a department"),
                   "weighted": _("Weighted by experience in a department")}
#: The lead fields a condition may test (``assignment.FIELDS``); custom fields are added per request.
FIELD_LABELS = {"source": _("Source"), "industry": _("Industry"), "level": _("Level"), "province": _("Province"),
                "city": _("City"), "budget": _("Expected budget")}
OP_LABELS = {"eq": _("is"), "in": _("is one of"), "gte": "≥", "lte": "≤"}
#: Blank condition rows a rule form shows below the filled ones ("add a condition": save, more appear).
BLANK_ROWS = 3
MAX_ROWS = 20
ROW_FIELD = re.compile(r"^cond-(\d{1,2})-(field|op|value)$")


def optional_id(value: Any) -> int:
    """A select's id, 0 for "none" (an empty or missing value)."""
    if value in (None, "", "None"):
        return 0
    return int(value)


# ---------------------------------------------------------------- pools


def _limit(label: Any) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=10_000,
                                                                   message=LeadPoolLimitInvalid.message)])


class PoolAdminForm(KehuForm):
    """A lead pool: ``department_id`` 0 is company-wide (choices set by the view); blank limits
    mean no limit, a blank ``return_after_days`` no automatic return."""

    name = StringField(_("Lead pool name"), validators=[DataRequired(), Length(max=100)])
    department_id = SelectField(_("Department"), coerce=int,
                                description=_("A department's pool serves the departments below it too."))
    max_claims_per_day = _limit(_("Most claims per day"))
    max_open_per_user = _limit(_("Most open leads per person"))
    return_after_days = _limit(_("Return after days without follow-up"))
    active = BooleanField(_("Active"), default=True)

    def values(self) -> dict[str, Any]:
        """What ``pool.save_pool`` takes."""
        values = {name: field.data for name, field in self._fields.items()}
        values["department_id"] = values["department_id"] or None
        return values


# ---------------------------------------------------------------- rules


class RuleForm(KehuForm):
    """An assignment rule. The condition rows (``cond-<n>-field|op|value``) are read by
    ``posted_conditions``; ``conditions`` only carries their refusal to the page."""

    name = StringField(_("Rule name"), validators=[DataRequired(), Length(max=100)])
    priority = IntegerField(_("Priority"), default=100, validators=[Optional(), NumberRange(min=0, max=100_000)],
                            description=_("Rules are tried from the lowest number up; the first that matches "
                                          "and finds someone assigns the lead."))
    active = BooleanField(_("Active"), default=True)
    strategy = SelectField(_("Assign to"), choices=[BLANK, *STRATEGY_LABELS.items()], validate_choice=False)
    user_id = SelectField(_("User"), coerce=optional_id, validate_choice=False,
                          description=_("For “a named user”."))
    department_id = SelectField(_("Department"), coerce=optional_id, validate_choice=False,
                                description=_("For the other strategies: its people and those of the "
                                              "departments below it."))
    conditions = HiddenField()

    def values(self, conditions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """What ``assignment.save_rule`` takes."""
        return {"name": self.name.data, "priority": 100 if self.priority.data is None else self.priority.data,
                "active": self.active.data, "strategy": self.strategy.data or "", "conditions": list(conditions),
                "user_id": self.user_id.data or None, "department_id": self.department_id.data or None}


def posted_conditions(post: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows a rule form sent, in row order; a row with neither a field nor a value is
    blank and skipped, anything else goes to the service, which refuses what is wrong."""
    rows: dict[int, dict[str, str]] = {}
    for name, value in post.items():
        match = ROW_FIELD.match(name)
        if match and int(match.group(1)) < MAX_ROWS:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = str(value).strip()
    return [{"field": row.get("field", ""), "op": row.get("op", ""), "value": row.get("value", "")}
            for _n, row in sorted(rows.items()) if row.get("field") or row.get("value")]


def condition_rows(conditions: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The rows a rule form shows: the conditions (an "is one of" list joined by commas), then
    a few blank rows for more."""
    rows = [{"field": str(c.get("field") or ""), "op": str(c.get("op") or "eq"),
             "value": ", ".join(c["value"]) if isinstance(c.get("value"), list) else str(c.get("value") or "")}
            for c in conditions][:MAX_ROWS]
    blanks = max(0, min(BLANK_ROWS, MAX_ROWS - len(rows)))
    return rows + [{"field": "", "op": "eq", "value": ""} for _n in range(blanks)]


class PreviewForm(KehuForm):
    """"Test this rule against a sample lead": the values a new lead might have (choices set by
    the view). Custom fields the rule tests come as ``cf_<id>`` inputs beside these."""

    source = SelectField(_("Source"), choices=[BLANK], validate_choice=False)
    industry = SelectField(_("Industry"), choices=[BLANK], validate_choice=False)
    level = SelectField(_("Level"), choices=[BLANK], validate_choice=False)
    province = StringField(_("Province"), validators=[Optional(), Length(max=50)])
    city = StringField(_("City"), validators=[Optional(), Length(max=50)])
    budget = StringField(_("Expected budget"), validators=[Optional(), Length(max=20)])

    def sample(self) -> dict[str, Any]:
        """The values given (blanks left out: a lead without them)."""
        return {name: str(field.data).strip() for name, field in self._fields.items()
                if field.data is not None and str(field.data).strip()}


# ---------------------------------------------------------------- the people who receive leads


class AssigneeForm(KehuForm):
    """One person's assignment settings; blank hours mean "any time"."""

    away_until = DateField(_("On leave until"), validators=[Optional()],
                           description=_("Gets no leads until the end of this day."))
    weight = IntegerField(_("Weight"), default=1, validators=[Optional(), NumberRange(
        min=1, max=10, message=AssigneeWeightInvalid.message)],
        description=_("1 to 10: “weighted by experience” gives a heavier person more leads."))
    work_start = TimeField(_("Working hours from"), validators=[Optional()])
    work_end = TimeField(_("Working hours until"), validators=[Optional()],
                         description=_("In the person's own time zone; blank: any time."))

    def values(self) -> dict[str, Any]:
        """What ``assignment.save_assignee`` takes."""
        return {name: field.data for name, field in self._fields.items()}
