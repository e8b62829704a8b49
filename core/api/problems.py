"""Errors of the JSON API as ``application/problem+json`` (RFC 9457), in the reader's language:

```json
{"type": "about:blank", "status": 422, "title": "Invalid data", "code": "validation_failed",
 "detail": "The data sent has 1 problem(s).", "errors": [{"field": "title", "code": "string_too_long",
 "message": "At most 100 characters."}]}
```

A ``KehuError`` with a ``field_errors`` attribute (``[(field, KehuError), ...]``) lists each in
``errors``: an action refusing a batch says what was wrong with each item.

These exception views apply to paths under ``/api/v<n>/`` only (a ``path_info`` predicate);
pages keep their HTML error pages. A client never gets a traceback or an HTML page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import pydantic
from pyramid.config import Configurator
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPError, HTTPForbidden
from pyramid.i18n import TranslationString
from pyramid.request import Request
from pyramid.response import Response

from core.access.exceptions import PermissionDenied, RecordNotFound
from core.api import API_PATH_PATTERN
from core.api.exceptions import AuthenticationRequired, BadParameter, InvalidToken
from core.exceptions import KehuError, ValidationFailed
from core.i18n import _

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES: dict[int, TranslationString] = {
    400: _("Bad request"),
    401: _("Authentication required"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Method not allowed"),
    409: _("Conflict"),
    412: _("Precondition failed"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    422: _("Invalid data"),
    428: _("Precondition required"),
    429: _("Too many requests"),
    500: _("Server error"),
}

#: pydantic's error types, said in the reader's language (others keep pydantic's English text).
FIELD_MESSAGES: dict[str, TranslationString] = {
    "missing": _("This field is required."),
    "extra_forbidden": _("Unknown field: it is refused, not ignored."),
    "string_too_long": _("At most ${max_length} characters."),
    "string_too_short": _("At least ${min_length} characters."),
    "string_type": _("Must be text."),
    "string_pattern_mismatch": _("Has the wrong format."),
    "int_type": _("Must be a whole number."),
    "int_parsing": _("Must be a whole number."),
    "int_from_float": _("Must be a whole number."),
    "float_type": _("Must be a number."),
    "float_parsing": _("Must be a number."),
    "bool_type": _("Must be true or false."),
    "bool_parsing": _("Must be true or false."),
    "greater_than": _("Must be greater than ${gt}."),
    "greater_than_equal": _("Must be at least ${ge}."),
    "less_than": _("Must be less than ${lt}."),
    "less_than_equal": _("Must be at most ${le}."),
    "model_type": _("Must be a JSON object."),
    "model_attributes_type": _("Must be a JSON object."),
    "dict_type": _("Must be a JSON object."),
    "list_type": _("Must be a list."),
    "literal_error": _("Must be one of: ${expected}."),
    "enum": _("Must be one of: ${expected}."),
    "datetime_parsing": _("Must be a date and time (ISO 8601)."),
    "datetime_type": _("Must be a date and time (ISO 8601)."),
    "date_parsing": _("Must be a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": _("Must be a date (YYYY-MM-DD)."),
    "invalid_text": _("Must be text without NUL characters or unpaired surrogates."),
}


def problem(request: Request, status: int, detail: str | TranslationString, *, code: str,
            errors: Iterable[Mapping[str, str]] = (), headers: Mapping[str, str] | None = None) -> Response:
    """A problem+json response; ``detail`` and the title are translated for the reader."""
    translate = request.localizer.translate
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": status,
        "title": translate(TITLES.get(status, TITLES[400 if status < 500 else 500])),
        "code": code,
        "detail": translate(detail) if isinstance(detail, TranslationString) else detail,
    }
    errors = list(errors)
    if errors:
        body["errors"] = errors
    response = Response(status=status, charset="utf-8", content_type=PROBLEM_JSON,
                        body=json.dumps(body, ensure_ascii=False).encode())
    response.headers.update(headers or {})
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="kehu"')
    return response


def _code(exc: Exception) -> str:
    return problem_code(type(exc).__name__)


def problem_code(name: str) -> str:
    """``StaleRecord`` → ``stale_record``: a stable machine-readable name of the error."""
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name).lstrip("_")


def clean_text(value: str) -> str:
    """Text that can be encoded as UTF-8 (a field name sent by a client may hold anything)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def field_errors(request: Request, errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """pydantic's errors (or the same shape) as ``[{field, code, message}]``, translated."""
    translate = request.localizer.translate
    found = []
    for error in errors:
        kind = str(error.get("type", "value_error"))
        field = ".".join(str(part) for part in error.get("loc", ()))
        params = {key: _param(value) for key, value in (error.get("ctx") or {}).items()}
        template = FIELD_MESSAGES.get(kind)
        if template is not None:
            message = translate(TranslationString(template, domain=template.domain, mapping=params))
        else:
            message = str(error.get("msg", kind))
        found.append({"field": clean_text(field), "code": kind, "message": clean_text(message)})
    return found


def _param(value: Any) -> str:
    return clean_text(value if isinstance(value, str) else repr(value) if isinstance(value, bytes) else str(value))


# -- exception views -------------------------------------------------------------------------

def kehu_error(exc: KehuError, request: Request) -> Response:
    status = int(getattr(exc, "http_status", 422))
    params = _translated_params(request, exc)
    errors: list[dict[str, str]] = []
    if isinstance(exc, ValidationFailed | BadParameter):  # one field's problem: say which, for programs too
        errors.append({"field": clean_text(params.get("field", "")), "code": _code(exc),
                       "message": clean_text(params.get("problem", ""))})
    for field, error in getattr(exc, "field_errors", ()):  # several problems at once, e.g. one per id
        message = request.localizer.translate(error.translation_string)
        errors.append({"field": clean_text(str(field)), "code": _code(error), "message": clean_text(message)})
    headers = dict(getattr(exc, "headers", None) or {})
    if isinstance(exc, InvalidToken):
        headers["WWW-Authenticate"] = 'Bearer realm="kehu", error="invalid_token"'
    detail = request.localizer.translate(TranslationString(exc.message, domain=exc.message.domain, mapping=params))
    return problem(request, status, clean_text(detail), code=_code(exc), errors=errors, headers=headers)


def _translated_params(request: Request, exc: KehuError) -> dict[str, str]:
    """The error's parameters as text; a parameter that is itself a message is translated too."""
    translate = request.localizer.translate
    params = {}
    for key, value in exc.params.items():
        if isinstance(value, TranslationString):
            params[key] = translate(value)
        elif isinstance(value, list | tuple | set | frozenset):
            params[key] = ", ".join(str(item) for item in value)
        else:
            params[key] = str(value)
    return params


def validation_error(exc: pydantic.ValidationError, request: Request) -> Response:
    errors = field_errors(request, exc.errors(include_url=False, include_input=False))
    detail = _("The data sent has ${count} problem(s).", mapping={"count": len(errors)})
    return problem(request, 422, detail, code="validation_failed", errors=errors)


def record_not_found(exc: Exception, request: Request) -> Response:
    return problem(request, 404, RecordNotFound.message, code="not_found")


def not_found(exc: Exception, request: Request) -> Response:
    return problem(request, 404, _("There is nothing at this address."), code="not_found")


def permission_denied(exc: PermissionDenied, request: Request) -> Response:
    return problem(request, 403, exc.translation_string, code="permission_denied")


def forbidden(exc: HTTPForbidden, request: Request) -> Response:
    """A view's permission was refused: 401 when nobody is signed in, 403 otherwise."""
    if request.user is None:
        return kehu_error(AuthenticationRequired(), request)
    return problem(request, 403, _("Your account may not do this. Ask an administrator for access."),
                   code="permission_denied")


def bad_csrf(exc: Exception, request: Request) -> Response:
    return problem(request, 403, _("A request signed in by the session cookie must send the X-CSRF-Token header "
                                   "(or use a personal access token)."), code="csrf_failed")


def http_error(exc: HTTPError, request: Request) -> Response:
    status = exc.code or 500
    return problem(request, status, str(exc.explanation or exc.title), code=_code(exc))


def server_error(exc: Exception, request: Request) -> Response:
    log.exception("error in %s %s", request.method, request.path_qs, exc_info=exc)
    return problem(request, 500, _("The error was recorded and nothing was saved. Try again, or tell an "
                                   "administrator."), code="server_error")


def includeme(config: Configurator) -> None:
    api = {"path_info": API_PATH_PATTERN}
    config.add_notfound_view(not_found, **api)
    config.add_forbidden_view(forbidden, **api)
    # One view per context the pages' error views know (core.web.views.errors): an exception
    # view is looked up by the most specific class first, so each needs its API twin.
    for context, view in ((BadCSRFToken, bad_csrf), (BadCSRFOrigin, bad_csrf), (KehuError, kehu_error),
                          (RecordNotFound, record_not_found), (PermissionDenied, permission_denied),
                          (pydantic.ValidationError, validation_error), (HTTPError, http_error),
                          (Exception, server_error)):
        config.add_exception_view(view, context=context, **api)
