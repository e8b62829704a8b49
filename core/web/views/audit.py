"""The audit log (X5): who did what, when, from where. Filtered in a GET form (so a filtered
view can be bookmarked and shared), newest first, 50 entries a page by keyset (``before=<id>``);
the same filters export a CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.config import Configurator
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from core.audit.services import ACTIONS, EXPORT_LIMIT, AuditFilter, audit_query, export_audit
from core.exports import csv_bytes
from core.i18n import _
from core.models import User
from core.web.forms import KehuForm
from core.web.rendering import user_timezone

PAGE_SIZE = 50
TEMPLATE = "core/admin/audit.jinja2"
#: The query parameters that make up a filter (carried by the "older entries" and export links).
FILTER_FIELDS = ("user", "action", "model", "record_id", "date_from", "date_to")


class AuditFilterForm(KehuForm):
    user = StringField(_("User"), validators=[Optional(), Length(max=64)])
    action = SelectField(_("Action"), choices=[("", "")], default="")
    model = StringField(_("Model"), validators=[Optional(), Length(max=128)])
    record_id = StringField(_("Record ID"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_("From"), validators=[Optional()])
    date_to = DateField(_("To"), validators=[Optional()])

    #: Set by the view: the user named in the ``user`` field, once validated.
    user_id: int | None = None

    @classmethod
    def for_query(cls, request: Request) -> AuditFilterForm:
        """Bound to the query string (a GET form), in the reader's language."""
        formdata = request.GET.copy()
        for name in FILTER_FIELDS:  # ?date_from= (an empty field) means "no filter"
            if name in formdata and not formdata[name].strip():
                del formdata[name]
        form = cls(formdata, meta={"locales": [request.locale_name, "en"]})
        translate = request.localizer.translate
        form.action.choices = [("", translate(_("All actions")))] + [
            (key, translate(title)) for key, title in ACTIONS.items()]
        form.request = request
        return form

    def validate_user(self, field: StringField) -> None:
        if not field.data:
            return
        user_id = self.request.dbsession.scalar(select(User.id).where(User.username == field.data.strip()))
        if user_id is None:
            raise ValidationError(_("There is no user named “${username}”.", mapping={"username": field.data}))
        self.user_id = user_id

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))

    def audit_filter(self, tz: dt.tzinfo) -> AuditFilter:
        """Dates are whole days in the reader's time zone: from 00:00 of ``date_from`` up to,
        not including, 00:00 of the day after ``date_to``."""

        def midnight(day: dt.date | None) -> dt.datetime | None:
            return dt.datetime.combine(day, dt.time(), tzinfo=tz) if day else None

        return AuditFilter(
            user_id=self.user_id,
            action=self.action.data or None,
            model=(self.model.data or "").strip() or None,
            record_id=(self.record_id.data or "").strip() or None,
            since=midnight(self.date_from.data),
            until=midnight(self.date_to.data + dt.timedelta(days=1)) if self.date_to.data else None,
        )


def _filter_query(request: Request) -> list[tuple[str, str]]:
    """The filter parameters as given (for links that keep them)."""
    return [(name, request.GET[name].strip()) for name in FILTER_FIELDS if request.GET.get(name, "").strip()]


def _before(request: Request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _page(request: Request, form: AuditFilterForm, entries: list, older_url: str | None) -> dict[str, Any]:
    query = _filter_query(request)
    return {
        "form": form,
        "entries": entries,
        "older_url": older_url,
        "newest_url": request.route_path("core.audit", _query=query) if "before" in request.GET else None,
        "export_url": (request.route_path("core.audit.export", _query=query)
                       if request.has_permission("core.audit:export") else None),
        "filter_count": len(query),
        "timezone": user_timezone(request).key,
        "export_limit": EXPORT_LIMIT,
        "page_title": _("Audit log"),
    }


def audit_log(request: Request) -> dict[str, Any]:
    form = AuditFilterForm.for_query(request)
    if not form.validate():
        request.response.status = 400
        return _page(request, form, [], None)
    before = _before(request)
    query = audit_query(request.ctx, form.audit_filter(user_timezone(request)), before_id=before)
    entries = list(request.dbsession.scalars(query.limit(PAGE_SIZE + 1)))
    older_url = None
    if len(entries) > PAGE_SIZE:
        entries = entries[:PAGE_SIZE]
        older_url = request.route_path("core.audit", _query=[*_filter_query(request), ("before", entries[-1].id)])
    return _page(request, form, entries, older_url)


def audit_export(request: Request) -> Response:
    form = AuditFilterForm.for_query(request)
    if not form.validate():
        response = render_to_response(TEMPLATE, _page(request, form, [], None), request=request)
        response.status = 400
        return response
    header, rows = export_audit(request.ctx, form.audit_filter(user_timezone(request)), EXPORT_LIMIT)
    day = request.ctx.now.astimezone(user_timezone(request)).strftime("%Y%m%d")
    return Response(
        body=csv_bytes(header, rows),
        content_type="text/csv",
        charset="utf-8",
        content_disposition=f'attachment; filename="audit-{day}.csv"',
    )


def includeme(config: Configurator) -> None:
    config.add_route("core.audit", "/admin/audit")
    config.add_route("core.audit.export", "/admin/audit/export.csv")
    config.add_view(audit_log, route_name="core.audit", renderer=TEMPLATE, permission="core.audit:read",
                    request_method="GET")
    config.add_view(audit_export, route_name="core.audit.export", permission="core.audit:export",
                    request_method="GET")
