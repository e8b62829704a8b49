"""Errors of the JSON API and of personal access tokens. Each carries its HTTP status; the API
renders it as ``application/problem+json`` in the reader's language (``core.api.problems``).

Any ``KehuError`` may set ``http_status`` the same way; one that does not is answered with 422.
"""

from __future__ import annotations

from typing import ClassVar

from core.exceptions import KehuError
from core.i18n import _


class ApiError(KehuError):
    http_status: ClassVar[int] = 400


class InvalidToken(ApiError):
    """401, the same answer whether the token is unknown, expired, revoked or its user disabled."""

    http_status = 401
    message = _("The access token is invalid, expired or revoked.")


class AuthenticationRequired(ApiError):
    http_status = 401
    message = _("Sign in, or send a personal access token: Authorization: Bearer <token>.")


class ReadOnlyToken(ApiError):
    http_status = 403
    message = _("This access token may only read. Create a token with the “write” scope to change data.")


class RateLimited(ApiError):
    http_status = 429
    message = _("Too many requests with this token. Try again in ${seconds} seconds.")


class MalformedJson(ApiError):
    message = _("The request body is not valid JSON.")


class UnsupportedMediaType(ApiError):
    http_status = 415
    message = _("Send the request body as application/json.")


class BodyTooLarge(ApiError):
    http_status = 413
    message = _("The request body is larger than ${limit} bytes.")


class BadParameter(ApiError):
    """400 for a query parameter: ``field`` names it, ``problem`` says what is wrong."""

    message = _("${field}: ${problem}")


class BadCursor(ApiError):
    message = _("The cursor is not valid for this list. Start again from the first page.")


class StaleRecord(ApiError):
    http_status = 412
    message = _("The record has changed since you read it. Read it again, then repeat your change.")


class MethodNotAllowed(ApiError):
    http_status = 405
    message = _("The method ${method} is not allowed here.")


class Conflict(ApiError):
    http_status = 409
    message = _("The change conflicts with other data (a duplicate, or a record still in use).")


class InvalidTokenScope(KehuError):
    message = _("A token's scope is “read” or “write”.")


class InvalidTokenExpiry(KehuError):
    message = _("A token expires after 1 to ${max_days} days.")


class InvalidTokenName(KehuError):
    message = _("A token's name is 1 to ${max_length} characters.")
