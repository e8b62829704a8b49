"""Sessions, CSRF and identity for the web.

- The session is a signed cookie (HttpOnly, SameSite=Lax, Secure over https). It carries flash
  messages, the CSRF token and a login token; the login token names a ``core_login_session``
  row, so signing out, a password change or disabling the user ends the session server-side.
- Every POST/PUT/PATCH/DELETE must carry the CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``); without it Pyramid refuses with 400 before the view runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from core.context import Ctx
from core.models import User
from core.settings import as_bool
from core.users.services import user_for_token

LOGIN_TOKEN_KEY = "auth.token"  # noqa: S105 (a session key, not a secret)
SESSION_COOKIE = "kehu_session"


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
    token = request.session.get(LOGIN_TOKEN_KEY)
    if not token:
        return None
    ctx = Ctx(request.dbsession, request.addons.hooks)
    idle = dt.timedelta(minutes=request.registry.settings["kehu.session_idle_minutes"])
    return user_for_token(ctx, token, idle_timeout=idle)


def client_ip(request: Request) -> str:
    """The client's address: REMOTE_ADDR, or the last X-Forwarded-For hop when the direct peer
    is a trusted proxy (never the header alone: clients can write anything there)."""
    remote = request.remote_addr or ""
    trusted = request.registry.settings["kehu.trusted_proxies"]
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and remote in trusted:
        return forwarded.split(",")[-1].strip()[:64]
    return remote[:64]


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
    secure_factory = SignedCookieSessionFactory(secret, secure=True, **common)
    plain_factory = SignedCookieSessionFactory(secret, secure=False, **common)
    forced = settings["kehu.cookie_secure"]

    def session_factory(request: Request) -> Any:
        # "auto": Secure whenever the request came over https (directly or via the proxy's
        # X-Forwarded-Proto, which gunicorn trusts from forwarded_allow_ips).
        secure = request.scheme == "https" if forced == "auto" else as_bool(forced)
        return (secure_factory if secure else plain_factory)(request)

    return session_factory


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    config.set_session_factory(_session_factory(settings))
    config.set_default_csrf_options(require_csrf=True, token="csrf_token", header="X-CSRF-Token")  # noqa: S106
    config.set_security_policy(KehuSecurityPolicy())
    config.add_request_method(_user, "user", reify=True)
