"""Forms of the opportunities admin pages: a pipeline (with its stage rows) and the scoring
weights. WTForms checks shapes; ``pipelines`` and ``scoring`` keep the rules, and ``save_form``
shows their refusals beside these fields. The targets grid is read by ``posted_targets``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from core.i18n import _
from core.web.forms import KehuForm

from .exceptions import ScoringWeightsInvalid
from .models import Stage
from .scoring import FACTORS

#: Blank stage rows a pipeline form shows below the filled ones ("add a stage": fill one, save).
BLANK_ROWS = 3
MAX_ROWS = 30
STAGE_FIELD = re.compile(r"^stage-(\d{1,2})-(id|name|probability|kind)$")
TARGET_FIELD = re.compile(r"^t-(\d{1,10})-(\d{1,2})$")
#: A stage's kind (``models.STAGE_KINDS``) as the pipeline pages name it.
KIND_LABELS = {"open": _("In progress"), "won": _("Won"), "lost": _("Lost")}


# ---------------------------------------------------------------- pipelines


class PipelineForm(KehuForm):
    """A pipeline: ``department_id`` 0 is company-wide (choices set by the view). The stage rows
    (``stage-<n>-id|name|probability|kind``) are read by ``posted_stages``; ``stages`` only
    carries their refusal to the page."""

    name = StringField(_("Pipeline name"), validators=[DataRequired(), Length(max=100)])
    department_id = SelectField(_("Department"), coerce=int, validate_choice=False,
                                description=_("A department's pipeline is offered to that department and the "
                                              "departments below it; a company-wide one to everyone."))
    active = BooleanField(_("Active"), default=True)
    stages = HiddenField()

    def values(self, stages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """What ``pipelines.save_pipeline`` takes."""
        return {"name": self.name.data or "", "department_id": self.department_id.data or None,
                "active": bool(self.active.data), "stages": list(stages)}


def posted_stages(post: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stage rows a pipeline form sent, in row order; a row without a name is skipped (a
    blank row, or an existing stage taken out: the pipeline then deactivates it)."""
    rows: dict[int, dict[str, str]] = {}
    for name, value in post.items():
        match = STAGE_FIELD.match(name)
        if match and int(match.group(1)) < MAX_ROWS:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = str(value).strip()
    return [{"id": int(row["id"]) if row.get("id", "").isdigit() else None, "name": row["name"],
             "probability": row.get("probability", ""), "kind": row.get("kind", "open")}
            for _n, row in sorted(rows.items()) if row.get("name")]


def stage_rows(stages: Sequence[Mapping[str, Any] | Stage]) -> list[dict[str, Any]]:
    """The rows a pipeline form shows: the stages, then a few blank rows for more."""
    rows = []
    for stage in list(stages)[:MAX_ROWS]:
        if isinstance(stage, Stage):
            stage = {"id": stage.id, "name": stage.name, "probability": stage.probability, "kind": stage.kind}
        rows.append({"id": stage.get("id") or "", "name": stage.get("name") or "",
                     "probability": "" if stage.get("probability") is None else str(stage.get("probability")),
                     "kind": stage.get("kind") or "open"})
    blanks = max(0, min(BLANK_ROWS, MAX_ROWS - len(rows)))
    return rows + [{"id": "", "name": "", "probability": "", "kind": "open"} for _n in range(blanks)]


# ---------------------------------------------------------------- scoring


def _weight(label: Any, default: int) -> IntegerField:
    return IntegerField(label, default=default, validators=[
        InputRequired(message=ScoringWeightsInvalid.message),
        NumberRange(min=0, max=100, message=ScoringWeightsInvalid.message)])


class ScoringForm(KehuForm):
    """One weight per scoring factor (``scoring.FACTORS``, field names are the factors' keys);
    ``weights`` carries the refusal of the whole set (all zero) to the page."""

    weights = HiddenField()

    def values(self) -> dict[str, int]:
        """What ``scoring.save_weights`` takes."""
        return {factor.key: self[factor.key].data for factor in FACTORS}


for _factor in FACTORS:  # a field per factor, declared once with the class
    setattr(ScoringForm, _factor.key, _weight(_factor.label, _factor.default_weight))
del _factor


# ---------------------------------------------------------------- targets


def posted_targets(post: Mapping[str, Any], user_ids: Sequence[int]) -> dict[tuple[int, int], str]:
    """The targets grid's cells ``t-<user_id>-<month>`` as ``{(user_id, month): text}``, for the
    people shown only (a forged name for anyone else is ignored)."""
    shown = set(user_ids)
    cells = {}
    for name, value in post.items():
        match = TARGET_FIELD.match(name)
        if match and int(match.group(1)) in shown and 1 <= int(match.group(2)) <= 12:
            cells[(int(match.group(1)), int(match.group(2)))] = str(value).strip()
    return cells
