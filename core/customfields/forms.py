"""Custom fields on an addon's WTForms form: one form field per active custom field, named
``cf_<id>``, checked again by ``set_values`` (WTForms only shapes the input)."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, DecimalField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from core.customfields.services import MAX_TEXT, FieldDef, fields_for

PREFIX = "cf_"


def with_custom_fields(form_class: type, ctx: Any, model: type) -> type:
    """A subclass of ``form_class`` with the model's custom fields appended (built per request:
    admins change the fields at run time)."""
    extra = {field.name: _form_field(field) for field in fields_for(ctx, model)}
    return type(form_class.__name__, (form_class,), extra) if extra else form_class


def _form_field(field: FieldDef) -> Any:
    required = [InputRequired()] if field.required else [Optional()]
    if field.kind == "number":
        return DecimalField(field.label, validators=required, places=None)
    if field.kind == "date":
        return DateField(field.label, validators=required)
    if field.kind == "select":
        return SelectField(field.label, choices=[("", "—"), *[(c, c) for c in field.choices or []]],
                           validators=required, validate_choice=False)
    return StringField(field.label, validators=[*required, Length(max=MAX_TEXT)])


def custom_data(form: Any) -> dict[str, Any]:
    """The form's custom values, for ``set_values``."""
    return {name: f.data for name, f in form._fields.items() if name.startswith(PREFIX)}


def fill_custom(form: Any, values: dict[str, Any]) -> None:
    """Show a record's current values in a form that was not posted."""
    for name, value in values.items():
        if name in form:
            form[name].data = value
