"""Custom fields (自定义字段) admin: per kind of record, the fields with their kind, choices and
order; add, edit, retire. The rules are the service's; refusals show beside their fields."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.customfields import services
from core.customfields.exceptions import (
    FieldChoicesInvalid,
    FieldKindFixed,
    FieldKindUnknown,
    FieldLabelRequired,
    FieldLabelTaken,
)
from core.customfields.models import CustomField
from core.exceptions import KehuError
from core.i18n import _
from core.web.forms import KehuForm, blank_form, flash_done, show_error

KIND_CHOICES = [("text", _("Text")), ("number", _("Number")), ("date", _("Date")), ("select", _("Choice"))]
ERROR_FIELDS: dict[type[KehuError], str] = {FieldLabelRequired: "label", FieldLabelTaken: "label",
                                            FieldKindUnknown: "kind", FieldKindFixed: "kind",
                                            FieldChoicesInvalid: "choices"}


class CustomFieldForm(KehuForm):
    label = StringField(_("Field name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_("Kind"), choices=KIND_CHOICES)
    choices = TextAreaField(_("Choices (one per line)"), validators=[Optional(), Length(max=20000)])
    required = BooleanField(_("Required"))
    position = IntegerField(_("Sort order"), validators=[Optional(), NumberRange(min=0, max=100000)])
    active = BooleanField(_("In use"), default=True)


def _models(request: Request) -> dict[str, Any]:
    """The kinds of record of installed addons that accept custom fields, by table name."""
    return {table: model for table, model in sorted(services.custom_models().items())
            if request.addons.is_installed(table.split("_", 1)[0])}


def custom_fields(request: Request) -> Any:
    """The fields of one kind of record (``?model=``) and the form to add one."""
    models = _models(request)
    if not models:  # no installed app offers custom fields (yet): say so, rather than a dead link
        return {"models": [], "model": "", "fields": [], "form": None, "editing": None, "kinds": {},
                "page_title": _("Custom fields")}
    table = request.params.get("model", "")
    if table not in models:
        table = next(iter(models))
    form = CustomFieldForm.for_request(request) if request.method == "POST" else blank_form(CustomFieldForm, request)
    if request.method == "POST" and _save(request, form, table):
        return HTTPSeeOther(request.route_path("core.custom_fields", _query={"model": table}))
    return _page(request, models, table, form, None)


def custom_field_edit(request: Request) -> Any:
    field = request.dbsession.get(CustomField, int(request.matchdict["id"]))
    models = _models(request)
    if field is None or field.model not in models:
        raise HTTPNotFound()
    if request.method == "POST":
        form = CustomFieldForm.for_request(request)
        if _save(request, form, field.model, field):
            return HTTPSeeOther(request.route_path("core.custom_fields", _query={"model": field.model}))
    else:
        form = blank_form(CustomFieldForm, request, label=field.label, kind=field.kind, required=field.required,
                          choices="\n".join(field.choices or []), position=field.position, active=field.active)
    return _page(request, models, field.model, form, field)


def _save(request: Request, form: CustomFieldForm, table: str, field: CustomField | None = None) -> bool:
    if not form.validate():
        request.response.status = 400
        return False
    try:
        with request.dbsession.begin_nested():
            saved = services.save_field(request.ctx, table, field.id if field else None, label=form.label.data,
                                        kind=form.kind.data, choices=form.choices.data, required=form.required.data,
                                        active=form.active.data, position=form.position.data)
    except KehuError as exc:
        show_error(request, form, exc, ERROR_FIELDS)
        request.response.status = 400
        return False
    flash_done(request, _("Field “${label}” saved.", mapping={"label": saved.label}))
    return True


def _page(request: Request, models: dict[str, Any], table: str, form: CustomFieldForm,
          editing: CustomField | None) -> dict[str, Any]:
    return {"models": [(t, m.custom_fields_title) for t, m in models.items()], "model": table,
            "fields": services.all_fields(request.ctx, table), "form": form,
            "editing": editing, "kinds": dict(KIND_CHOICES), "page_title": _("Custom fields")}


def includeme(config: Configurator) -> None:
    """/admin/custom-fields: list and add (per kind of record), edit."""
    permission = "core.custom_field:admin"
    config.add_route("core.custom_fields", "/admin/custom-fields")
    config.add_route("core.custom_fields.edit", r"/admin/custom-fields/{id:\d{1,9}}")
    config.add_view(custom_fields, route_name="core.custom_fields", renderer="core/admin/custom_fields.jinja2",
                    permission=permission, request_method=("GET", "POST"))
    config.add_view(custom_field_edit, route_name="core.custom_fields.edit",
                    renderer="core/admin/custom_fields.jinja2", permission=permission, request_method=("GET", "POST"))
