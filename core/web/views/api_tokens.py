"""``/preferences/tokens``: a user's own personal access tokens for the JSON API. A new token is
shown once, on the page that answers its creation (never stored, never in a redirect or flash)."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.request import Request
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from core.access.exceptions import RecordNotFound
from core.api.tokens import NAME_LENGTH, create_token, display_prefix, get_token, list_tokens, revoke_token
from core.i18n import _
from core.models import User
from core.web.forms import KehuForm

EXPIRY_CHOICES = [(7, _("7 days")), (30, _("30 days")), (90, _("90 days")), (180, _("180 days")),
                  (365, _("1 year"))]


class TokenForm(KehuForm):
    name = StringField(_("Name"), validators=[DataRequired(), Length(max=NAME_LENGTH)],
                       description=_("What the token is for, e.g. “ERP sync”."))
    scope = SelectField(_("Access"), choices=[("read", _("Read only")), ("write", _("Read and write"))],
                        default="read")
    expires_days = SelectField(_("Expires after"), choices=EXPIRY_CHOICES, coerce=int, default=90)


def _signed_in(request: Request) -> User:
    if request.user is None:
        raise HTTPForbidden()  # the forbidden view sends anonymous visitors to /login?next=…
    return request.user


def _form(request: Request, *, bound: bool) -> TokenForm:
    """The form, its choices in the reader's language."""
    form = TokenForm.for_request(request) if bound else TokenForm(meta={"locales": [request.locale_name, "en"]})
    translate = request.localizer.translate
    for select in (form.scope, form.expires_days):
        select.choices = [(value, translate(label)) for value, label in select.choices]
    return form


def _page(request: Request, form: TokenForm, *, created: str | None = None) -> dict[str, Any]:
    user = request.user
    return {
        "form": form,
        "tokens": list_tokens(request.ctx, user),
        "created": created,
        "now": request.ctx.now,
        "display_prefix": display_prefix,
        "docs_url": request.route_path("api.core.docs"),
        "page_title": _("API tokens"),
    }


def tokens(request: Request) -> dict[str, Any]:
    _signed_in(request)
    return _page(request, _form(request, bound=False))


def create(request: Request) -> dict[str, Any]:
    user = _signed_in(request)
    form = _form(request, bound=True)
    if not form.validate():
        request.response.status = 400
        return _page(request, form)
    secret, _row = create_token(request.ctx, user, form.name.data, form.scope.data, form.expires_days.data)
    return _page(request, _form(request, bound=False), created=secret)


def revoke(request: Request) -> HTTPSeeOther:
    user = _signed_in(request)
    row = get_token(request.ctx, int(request.matchdict["id"]))
    if row.user_id != user.id:  # this page manages one's own tokens only
        raise RecordNotFound()
    revoke_token(request.ctx, row)
    request.session.flash(request.localizer.translate(
        _("Token ${prefix} revoked.", mapping={"prefix": display_prefix(row)})), "success")
    return HTTPSeeOther(request.route_path("core.tokens"))


def includeme(config: Configurator) -> None:
    config.add_route("core.tokens", "/preferences/tokens")
    config.add_route("core.tokens.revoke", "/preferences/tokens/{id:\\d{1,9}}/revoke")
    page = "core/tokens/list.jinja2"
    config.add_view(tokens, route_name="core.tokens", renderer=page, request_method="GET")
    config.add_view(create, route_name="core.tokens", renderer=page, request_method="POST")
    config.add_view(revoke, route_name="core.tokens.revoke", request_method="POST")
