"""Friendly error pages. A user never sees a stack trace; the log gets it, with the request."""

from __future__ import annotations

import logging

from pyramid.config import Configurator
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPError, HTTPSeeOther
from pyramid.request import Request

from core.access.exceptions import PermissionDenied, RecordNotFound
from core.exceptions import KehuError
from core.i18n import _

log = logging.getLogger(__name__)


def _error_page(request: Request, status: int, title: object, detail: object) -> dict:
    request.response.status = status
    return {"status": status, "title": title, "detail": detail, "page_title": title}


def not_found(exc: Exception, request: Request) -> dict:
    return _error_page(request, 404, _("Page not found"),
                       _("The page does not exist, or you have no access to it."))


def forbidden(exc: Exception, request: Request) -> dict | HTTPSeeOther:
    if request.user is None:
        return HTTPSeeOther(request.route_path("core.login", _query={"next": request.path_qs}))
    return _error_page(request, 403, _("Not allowed"),
                       _("Your account may not open this page. Ask an administrator for access."))


def denied(exc: Exception, request: Request) -> dict:
    return _error_page(request, 403, _("Not allowed"),
                       _("Your account may not do this. Ask an administrator for access."))


def bad_csrf(exc: Exception, request: Request) -> dict:
    return _error_page(request, 400, _("The form has expired"),
                       _("Reload the page and send the form again."))


def user_error(exc: KehuError, request: Request) -> dict:
    """A typed error a view did not turn into a form message: still the user's language, 400."""
    return _error_page(request, 400, _("This cannot be done"), exc.translation_string)


def http_error(exc: HTTPError, request: Request) -> dict:
    return _error_page(request, exc.code or 500, exc.title, exc.explanation)


def server_error(exc: Exception, request: Request) -> dict:
    log.exception("error in %s %s", request.method, request.path_qs, exc_info=exc)
    return _error_page(request, 500, _("Something went wrong"),
                       _("The error was recorded and nothing was saved. Try again, or tell an administrator."))


def includeme(config: Configurator) -> None:
    page = "core/error.jinja2"
    config.add_notfound_view(not_found, renderer=page, append_slash=HTTPSeeOther)
    config.add_forbidden_view(forbidden, renderer=page)
    config.add_exception_view(bad_csrf, context=BadCSRFToken, renderer=page)
    config.add_exception_view(user_error, context=KehuError, renderer=page)
    # Outside the scope is "not found", so ids cannot be probed; a missing permission is 403.
    config.add_exception_view(not_found, context=RecordNotFound, renderer=page)
    config.add_exception_view(denied, context=PermissionDenied, renderer=page)
    config.add_exception_view(http_error, context=HTTPError, renderer=page)
    config.add_exception_view(server_error, context=Exception, renderer=page)
