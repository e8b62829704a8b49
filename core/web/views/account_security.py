"""A user's own security (X10): password, two-factor sign-in, sessions; the sign-in's second step.

- ``/login/totp``: after the right password of a user with two-factor sign-in on, the code from
  the authenticator app. The pending sign-in (in the cookie session) lasts 5 minutes; wrong
  codes count as failed sign-ins (throttle and audit log).
- ``/preferences/security``: change my password, turn two-factor sign-in on or off, sign out
  all my sessions. A password change ends every session (``set_password``); the browser that
  changed it gets a fresh session at once (new cookie, new CSRF token) and stays on the page,
  every other browser is signed out.
- With ``kehu.require_admin_totp``, an administrator without two-factor sign-in is sent to the
  security page from every other page until they turn it on.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.request import Request
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core.audit.services import write_audit
from core.i18n import _
from core.models import User
from core.users.exceptions import (
    CommonPassword,
    InvalidTotpCode,
    LoginLocked,
    TotpAlreadyEnabled,
    WeakPassword,
    WrongPassword,
)
from core.users.passwords import MIN_POLICY_LENGTH
from core.users.services import (
    check_password_policy,
    count_live_sessions,
    end_all_sessions,
    set_password,
    start_login_session,
    verify_current_password,
)
from core.users.totp import (
    authenticate_totp,
    begin_totp_enrolment,
    confirm_totp,
    disable_totp,
    provisioning_uri,
    qr_data_uri,
)
from core.web.forms import KehuForm
from core.web.security import LOGIN_TOKEN_KEY
from core.web.views.auth import PENDING_KEY, sign_in

PENDING_SECONDS = 5 * 60

#: Pages an administrator may still open while ``kehu.require_admin_totp`` asks them to enrol.
ENROLMENT_ROUTES = frozenset({
    "core.security", "core.security.password", "core.security.totp.begin", "core.security.totp.confirm",
    "core.security.totp.disable", "core.security.logout_all", "core.logout", "core.language",
    "core.login", "core.login.totp",
})

CODE_FIELD = {"inputmode": "numeric", "pattern": "[0-9 ]*", "maxlength": 7, "spellcheck": "false"}


class TotpCodeForm(KehuForm):
    code = StringField(_("Verification code"), validators=[DataRequired(), Length(max=7)], render_kw=CODE_FIELD)


class PasswordChangeForm(KehuForm):
    current_password = PasswordField(_("Current password"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_("New password"), validators=[DataRequired(), Length(max=256)])
    confirm_password = PasswordField(_("New password again"), validators=[DataRequired(), Length(max=256)])


class TotpDisableForm(KehuForm):
    password = PasswordField(_("Current password"), validators=[DataRequired(), Length(max=256)])


# -- the sign-in's second step ---------------------------------------------------------------

def _pending_user(request: Request) -> tuple[User, str] | None:
    """The user who gave the right password less than 5 minutes ago, and where they go next."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    age = request.ctx.now.timestamp() - float(pending.get("at", 0))
    if not 0 <= age <= PENDING_SECONDS:
        return None
    user = request.dbsession.get(User, pending.get("user_id"))
    if user is None or not user.active or not user.totp_enabled:
        return None
    return user, str(pending.get("next") or request.route_path("core.home"))


def login_totp(request: Request) -> dict | HTTPSeeOther:
    if request.user is not None:
        return HTTPSeeOther(request.route_path("core.home"))
    found = _pending_user(request)
    if found is None:
        request.session.pop(PENDING_KEY, None)
        request.session.flash(request.localizer.translate(_("The sign-in has expired. Sign in again.")), "warning")
        return HTTPSeeOther(request.route_path("core.login"))
    user, next_url = found
    form = TotpCodeForm.for_request(request)
    error = None
    if request.method == "POST" and form.validate():
        try:
            authenticate_totp(request.ctx, user, form.code.data)
        except (InvalidTotpCode, LoginLocked) as exc:
            error = exc.translation_string
        else:
            return sign_in(request, user, next_url)
    if request.method == "POST":
        request.response.status = 400
    return {"form": form, "error": error, "page_title": _("Two-step sign-in")}


# -- the security page -----------------------------------------------------------------------

def _signed_in(request: Request) -> User:
    if request.user is None:
        raise HTTPForbidden()  # the forbidden view sends anonymous visitors to /login?next=…
    return request.user


def _page(request: Request, **forms: Any) -> dict:
    """The security page's values; a POST that failed passes its form (with errors) in."""
    user = request.user
    enrolment = None
    if user.totp_secret and not user.totp_enabled:
        uri = provisioning_uri(user, user.totp_secret)
        secret = user.totp_secret
        enrolment = {
            "qr": qr_data_uri(uri),
            "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        }
    meta = {"locales": [request.locale_name, "en"]}
    return {
        "password_form": forms.get("password_form") or PasswordChangeForm(meta=meta),
        "confirm_form": forms.get("confirm_form") or TotpCodeForm(meta=meta),
        "disable_form": forms.get("disable_form") or TotpDisableForm(meta=meta),
        "enrolment": enrolment,
        "totp_required": request.registry.settings["kehu.require_admin_totp"] and user.is_admin,
        "live_sessions": count_live_sessions(request.ctx, user),
        "min_length": MIN_POLICY_LENGTH,
        "page_title": _("Security"),
    }


def _failed(request: Request, **forms: Any) -> dict:
    request.response.status = 400
    return _page(request, **forms)


def _back(request: Request, message: Any, queue: str = "success") -> HTTPSeeOther:
    request.session.flash(request.localizer.translate(message), queue)
    return HTTPSeeOther(request.route_path("core.security"))


def security(request: Request) -> dict:
    _signed_in(request)
    return _page(request)


def change_password(request: Request) -> dict | HTTPSeeOther:
    user = _signed_in(request)
    form = PasswordChangeForm.for_request(request)
    if not form.validate():
        return _failed(request, password_form=form)
    # Problems of the new password first (they change nothing), then the current password.
    try:
        check_password_policy(form.new_password.data, username=user.username)
    except (WeakPassword, CommonPassword) as exc:
        form.new_password.errors.append(exc.translation_string)
    if form.new_password.data != form.confirm_password.data:
        form.confirm_password.errors.append(_("The two new passwords differ."))
    if form.new_password.errors or form.confirm_password.errors:
        return _failed(request, password_form=form)
    try:
        verify_current_password(request.ctx, user, form.current_password.data)
    except (WrongPassword, LoginLocked) as exc:
        form.current_password.errors.append(exc.translation_string)
        return _failed(request, password_form=form)
    set_password(request.ctx, user, form.new_password.data)  # ends every session, this one too
    # This browser proved the password just now: give it a fresh session (new cookie and CSRF
    # token, a new absolute timeout) instead of throwing the user out of the page.
    request.session.invalidate()
    request.session[LOGIN_TOKEN_KEY] = start_login_session(
        request.ctx, user, max_age=request.registry.settings["kehu.session_max_age"],
        user_agent=request.user_agent or "")
    request.session.new_csrf_token()
    return _back(request, _("Password changed. Every other browser signed in as you has been signed out."))


def totp_begin(request: Request) -> dict | HTTPSeeOther:
    user = _signed_in(request)
    try:
        begin_totp_enrolment(request.ctx, user)
    except TotpAlreadyEnabled as exc:
        return _back(request, exc.translation_string, "warning")
    return HTTPSeeOther(request.route_path("core.security", _anchor="two-factor"))


def totp_confirm(request: Request) -> dict | HTTPSeeOther:
    user = _signed_in(request)
    form = TotpCodeForm.for_request(request)
    if not form.validate():
        return _failed(request, confirm_form=form)
    try:
        confirm_totp(request.ctx, user, form.code.data)
    except InvalidTotpCode as exc:
        form.code.errors.append(exc.translation_string)
        return _failed(request, confirm_form=form)
    except TotpAlreadyEnabled as exc:
        return _back(request, exc.translation_string, "warning")
    return _back(request, _("Two-factor sign-in is on. From now on, signing in asks for a code from your app."))


def totp_disable(request: Request) -> dict | HTTPSeeOther:
    user = _signed_in(request)
    form = TotpDisableForm.for_request(request)
    if not form.validate():
        return _failed(request, disable_form=form)
    try:
        disable_totp(request.ctx, user, form.password.data)
    except (WrongPassword, LoginLocked) as exc:
        form.password.errors.append(exc.translation_string)
        return _failed(request, disable_form=form)
    return _back(request, _("Two-factor sign-in is off."))


def logout_all(request: Request) -> HTTPSeeOther:
    user = _signed_in(request)
    ended = end_all_sessions(request.ctx, user)
    write_audit(request.ctx, "logout", model=User.__tablename__, record_id=user.id,
                detail=f"all sessions ({ended})")
    request.session.invalidate()
    request.session.flash(request.localizer.translate(_("You have been signed out of all your sessions.")), "success")
    return HTTPSeeOther(request.route_path("core.login"))


# -- kehu.require_admin_totp -----------------------------------------------------------------

def require_admin_totp(event: ContextFound) -> None:
    """Send an administrator without two-factor sign-in to the security page (303), except
    from the pages needed to turn it on, sign out or switch language, and static files."""
    request = event.request
    if not request.registry.settings["kehu.require_admin_totp"]:
        return
    route = request.matched_route
    if route is None or route.name.startswith(("__", "api.")) or route.name in ENROLMENT_ROUTES:
        return  # static files need no check; the API answers JSON, never an HTML redirect
    user = request.user
    if user is None or user.totp_enabled or not user.is_admin:
        return
    request.session.flash(request.localizer.translate(
        _("Administrators must use two-factor sign-in. Turn it on to continue.")), "warning")
    raise HTTPSeeOther(request.route_path("core.security", _anchor="two-factor"))


def includeme(config: Configurator) -> None:
    config.add_route("core.login.totp", "/login/totp")
    config.add_route("core.security", "/preferences/security")
    config.add_route("core.security.password", "/preferences/security/password")
    config.add_route("core.security.totp.begin", "/preferences/security/totp/begin")
    config.add_route("core.security.totp.confirm", "/preferences/security/totp/confirm")
    config.add_route("core.security.totp.disable", "/preferences/security/totp/disable")
    config.add_route("core.security.logout_all", "/preferences/security/logout-all")
    config.add_view(login_totp, route_name="core.login.totp", renderer="core/login_totp.jinja2",
                    request_method=("GET", "POST"))
    page = "core/security.jinja2"
    config.add_view(security, route_name="core.security", renderer=page, request_method="GET")
    config.add_view(change_password, route_name="core.security.password", renderer=page, request_method="POST")
    config.add_view(totp_begin, route_name="core.security.totp.begin", renderer=page, request_method="POST")
    config.add_view(totp_confirm, route_name="core.security.totp.confirm", renderer=page, request_method="POST")
    config.add_view(totp_disable, route_name="core.security.totp.disable", renderer=page, request_method="POST")
    config.add_view(logout_all, route_name="core.security.logout_all", request_method="POST")
    config.add_subscriber(require_admin_totp, ContextFound)
