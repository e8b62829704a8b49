"""A user's language and time zone; the language switch also works before signing in."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from core.i18n import LOCALES, _
from core.users.services import update_preferences
from core.web.forms import PreferencesForm
from core.web.views.auth import safe_next


def preferences(request: Request) -> dict | HTTPSeeOther:
    user = request.user
    form = PreferencesForm.for_request(request, locale=user.locale, timezone=user.timezone)
    if request.method == "POST" and form.validate():
        update_preferences(request.ctx, user, locale=form.locale.data, timezone=form.timezone.data)
        # Say it in the language just chosen.
        from core.i18n import localizer_for

        request.session.flash(localizer_for(user.locale).translate(_("Preferences saved.")), "success")
        return HTTPSeeOther(request.route_path("core.profile"))
    if request.method == "POST":
        request.response.status = 400
    return {"form": form, "page_title": _("My preferences")}


def switch_language(request: Request) -> HTTPSeeOther:
    locale = request.POST.get("locale", "")
    if locale in LOCALES:
        if request.user is not None:
            update_preferences(request.ctx, request.user, locale=locale)
        request.session["locale"] = locale
    return HTTPSeeOther(safe_next(request, request.POST.get("next") or request.referer_path()))


def _referer_path(request: Request) -> str | None:
    from urllib.parse import urlsplit

    if not request.referer:
        return None
    parts = urlsplit(request.referer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def includeme(config: Configurator) -> None:
    config.add_request_method(_referer_path, "referer_path")
    config.add_route("core.profile", "/preferences")
    config.add_route("core.language", "/language")
    config.add_view(preferences, route_name="core.profile", renderer="core/preferences.jinja2",
                    permission="core.workbench:read", request_method=("GET", "POST"))
    config.add_view(switch_language, route_name="core.language", request_method="POST")
