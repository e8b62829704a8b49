"""Sessions, CSRF and identity for the web.

- The session is a signed cookie (HttpOnly, SameSite=Lax, Secure over https). It carries flash
  messages, the CSRF token and a login token; the login token names a ``core_login_session``
  row, so signing out, a password change or disabling the user ends the session server-side.
- Every POST/PUT/PATCH/DELETE must carry the CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``); without it Pyramid refuses with 400 before the view runs.
- Under ``/api/v<n>/`` a request with ``Authorization: Bearer <token>`` is identified by that
  personal access token alone (never by the cookie), and needs no CSRF token: a browser does
  not add that header by itself, so a forged cross-site request cannot carry it. The token is
  checked, counted against its rate limit and stamped with its last use in a short transaction
  of its own, committed before the request's own work starts (so a refused request counts too);
  a ``read`` token is refused every unsafe method.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from pyramid.config import Configurator
from pyramid.events import NewRequest
from pyramid.request import Request
from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from core.api import API_PATH
from core.api.exceptions import ApiError, InvalidToken, RateLimited, ReadOnlyToken
from core.api.tokens import TokenUse, use_token
from core.context import Ctx
from core.db import utcnow
from core.models import User
from core.settings import as_bool
from core.users.services import user_for_token

LOGIN_TOKEN_KEY = "auth.token"  # noqa: S105 (a session key, not a secret)
SESSION_COOKIE = "kehu_session"
#: Polled by the page itself (the notification bell), not by the person: no proof of activity.
BACKGROUND_ROUTES = frozenset({"core.notifications.bell", "core.exports.progress", "core.imports.progress"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class KehuSecurityPolicy:
    """Identity from the login session; permissions from ``core.permissions``."""

    def identity(self, request: Request) -> User | None:
        return request.user

    def authenticated_userid(self, request: Request) -> int | None:
        user = request.user
        return user.id if user is not None else None

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        if request.user is not None and request.ctx.access.can(permission):
            return Allowed(f"granted {permission}")
        return Denied(f"lacks {permission}")

    def remember(self, request: Request, userid: Any, **kw: Any) -> list:
        return []

    def forget(self, request: Request, **kw: Any) -> list:
        return []


def _user(request: Request) -> User | None:
    bearer = request.bearer
    if bearer.sent:  # the token alone decides, whatever cookie comes along
        if bearer.use is None:
            return None
        user = request.dbsession.get(User, bearer.use.user_id)
        return user if user is not None and user.active else None
    token = request.session.get(LOGIN_TOKEN_KEY)
    if not token:
        return None
    ctx = Ctx(request.dbsession, request.addons.hooks)
    idle = dt.timedelta(minutes=request.registry.settings["kehu.session_idle_minutes"])
    route = request.matched_route
    background = route is not None and route.name in BACKGROUND_ROUTES
    return user_for_token(ctx, token, idle_timeout=idle, touch=not background)


@dataclasses.dataclass(frozen=True)
class Bearer:
    """The outcome of a request's ``Authorization: Bearer`` header on an API path."""

    sent: bool = False
    use: TokenUse | None = None
    error: ApiError | None = None


def _bearer(request: Request) -> Bearer:
    """Checked once per request (reified), before the request's own session is used."""
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not API_PATH.match(request.path_info):
        return Bearer()
    settings = request.registry.settings
    factory = request.registry["kehu.session_factory"]
    with factory() as session, session.begin():
        use = use_token(session, token.strip(), now=utcnow(), rate_limit=settings["kehu.api_rate_limit"],
                        window=settings["kehu.api_rate_window"])
    if use is None:
        return Bearer(sent=True, error=InvalidToken())
    if use.retry_after is not None:
        error = RateLimited(seconds=use.retry_after)
        error.headers = {"Retry-After": str(use.retry_after)}  # type: ignore[attr-defined]
        return Bearer(sent=True, use=use, error=error)
    if request.method not in SAFE_METHODS and "write" not in use.scopes:
        return Bearer(sent=True, use=use, error=ReadOnlyToken())
    return Bearer(sent=True, use=use)


def authenticate_bearer(event: NewRequest) -> None:
    """Refuse a bad, rate-limited or read-only token before anything else runs."""
    error = event.request.bearer.error
    if error is not None:
        raise error


def csrf_applies(request: Request) -> bool:
    """The CSRF check guards cookie authority; a request identified by its token has none."""
    return request.bearer.use is None


def client_ip(request: Request) -> str:
    """The client's address: REMOTE_ADDR, or the last X-Forwarded-For hop when the direct peer
    is a trusted proxy (never the header alone: clients can write anything there)."""
    remote = request.remote_addr or ""
    trusted = request.registry.settings["kehu.trusted_proxies"]
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and remote in trusted:
        return forwarded.split(",")[-1].strip()[:64]
    return remote[:64]


#: Flash messages a session keeps per queue until a page shows them.
FLASH_LIMIT = 5


def _bounded_flash(session_class: Any) -> Any:
    """The session lives in a cookie (4 KB at most). A client that posts again and again without
    opening a page that shows the flash (a script, a form posted from elsewhere) would pile up
    "Assigned." until the cookie no longer fits and the request fails; so a message already
    waiting is not queued twice, and only the last ``FLASH_LIMIT`` are kept."""

    class BoundedFlashSession(session_class):  # type: ignore[misc, valid-type]
        def flash(self, msg: Any, queue: str = "", allow_duplicate: bool = True) -> None:
            super().flash(msg, queue, allow_duplicate=False)
            waiting = self.get("_f_" + queue)
            if waiting is not None and len(waiting) > FLASH_LIMIT:
                del waiting[:-FLASH_LIMIT]

    return BoundedFlashSession


def _session_factory(settings: dict) -> Any:
    common = {
        "cookie_name": SESSION_COOKIE,
        "httponly": True,
        "samesite": "Lax",
        "max_age": None,
        "timeout": settings["kehu.session_max_age"],
        "reissue_time": 600,
        "serializer": JSONSerializer(),
    }
    secret = settings["kehu.secret"]
    secure_factory = _bounded_flash(SignedCookieSessionFactory(secret, secure=True, **common))
    plain_factory = _bounded_flash(SignedCookieSessionFactory(secret, secure=False, **common))
    forced = settings["kehu.cookie_secure"]

    def session_factory(request: Request) -> Any:
        # "auto": Secure whenever the request came over https (directly or via the proxy's
        # X-Forwarded-Proto, which gunicorn trusts from forwarded_allow_ips).
        secure = request.scheme == "https" if forced == "auto" else as_bool(forced)
        return (secure_factory if secure else plain_factory)(request)

    return session_factory


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    settings["kehu.api_rate_limit"] = int(settings.get("kehu.api_rate_limit", 600))  # per token and window
    settings["kehu.api_rate_window"] = max(1, int(settings.get("kehu.api_rate_window", 60)))  # seconds
    config.set_session_factory(_session_factory(settings))
    config.set_default_csrf_options(require_csrf=True, token="csrf_token", header="X-CSRF-Token",  # noqa: S106
                                    callback=csrf_applies)
    config.set_security_policy(KehuSecurityPolicy())
    config.add_request_method(_bearer, "bearer", reify=True)
    config.add_request_method(_user, "user", reify=True)
    config.add_subscriber(authenticate_bearer, NewRequest)
