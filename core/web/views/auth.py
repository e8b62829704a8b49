"""Sign in and out. A new login token (and CSRF token) at every login: no session fixation."""

from __future__ import annotations

from urllib.parse import urlsplit

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from core.audit.services import write_audit
from core.i18n import _
from core.models import User
from core.users.exceptions import InvalidLogin, LoginLocked
from core.users.services import authenticate, complete_login, end_login_session
from core.web.forms import LoginForm
from core.web.security import LOGIN_TOKEN_KEY

PENDING_KEY = "auth.pending"


def safe_next(request: Request, target: str | None) -> str:
    """Only local paths: ``?next=https://evil.example`` must not redirect off-site."""
    if not target:
        return request.route_path("core.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return request.route_path("core.home")
    return target


def login(request: Request) -> dict | HTTPSeeOther:
    next_url = safe_next(request, request.params.get("next"))
    if request.user is not None:
        return HTTPSeeOther(next_url)
    form = LoginForm.for_request(request)
    error = None
    if request.method == "POST" and form.validate():
        ctx = request.ctx
        try:
            user = authenticate(ctx, form.username.data, form.password.data)
        except (InvalidLogin, LoginLocked) as exc:
            error = exc.translation_string
        else:
            if user.totp_enabled:
                return start_second_factor(request, user, next_url)
            return sign_in(request, user, next_url)
    if error is not None:
        request.response.status = 400
    return {"form": form, "error": error, "next": next_url, "page_title": _("Sign in")}


def sign_in(request: Request, user: User, next_url: str) -> HTTPSeeOther:
    """Open the session: a fresh cookie session (no fixation), a new login token and CSRF token."""
    request.session.invalidate()
    token = complete_login(request.ctx, user, max_age=request.registry.settings["kehu.session_max_age"],
                           user_agent=request.user_agent or "")
    request.session[LOGIN_TOKEN_KEY] = token
    request.session.new_csrf_token()
    return HTTPSeeOther(next_url)


def start_second_factor(request: Request, user: User, next_url: str) -> HTTPSeeOther:
    """Password right, TOTP on: remember who, briefly, and ask for the code."""
    request.session.invalidate()
    request.session[PENDING_KEY] = {"user_id": user.id, "at": request.ctx.now.timestamp(), "next": next_url}
    return HTTPSeeOther(request.route_path("core.login.totp"))


def logout(request: Request) -> HTTPSeeOther:
    token = request.session.get(LOGIN_TOKEN_KEY)
    if token:
        if request.user is not None:
            write_audit(request.ctx, "logout", model=User.__tablename__, record_id=request.user.id)
        end_login_session(request.ctx, token)
    request.session.invalidate()
    request.session.flash(request.localizer.translate(_("You have signed out.")), "success")
    return HTTPSeeOther(request.route_path("core.login"))


def includeme(config: Configurator) -> None:
    config.add_route("core.login", "/login")
    config.add_route("core.logout", "/logout")
    config.add_view(login, route_name="core.login", renderer="core/login.jinja2", request_method=("GET", "POST"))
    config.add_view(logout, route_name="core.logout", request_method="POST")
