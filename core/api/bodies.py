"""Request and response bodies of the JSON API: JSON in (415, 413, 400, 422 before any service
runs), JSON out, and what the database refuses turned into the client's error, not a 500."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pydantic
from pydantic import BaseModel
from pydantic_core import PydanticCustomError
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from core.api.exceptions import BadParameter, BodyTooLarge, Conflict, MalformedJson, UnsupportedMediaType
from core.i18n import _

MAX_BODY_BYTES = 1024 * 1024
JSON_TYPES = ("application/json", "application/merge-patch+json")


def json_response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(status=status, charset="utf-8", content_type="application/json",
                        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    response.headers.update(headers or {})
    return response


def validated_body(request: Request, schema: type[BaseModel]) -> BaseModel:
    """The JSON body validated by ``schema``: 415 for another media type, 413 past 1 MiB, 400
    for malformed JSON, 422 (pydantic's errors, per field) for anything the schema refuses."""
    if (request.content_type or "").lower() not in JSON_TYPES:
        raise UnsupportedMediaType()
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise BodyTooLarge(limit=MAX_BODY_BYTES)
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(limit=MAX_BODY_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedJson() from None
    model = schema.model_validate(data)
    unclean = list(_unclean_text(model.model_dump(), ()))
    if unclean:
        error = PydanticCustomError("invalid_text", "Must be text without NUL characters or unpaired surrogates.")
        raise pydantic.ValidationError.from_exception_data(
            schema.__name__, [{"type": error, "loc": loc, "input": ""} for loc in unclean])
    return model


def _unclean_text(value: Any, loc: tuple) -> Iterator[tuple]:
    """Where in a validated body a string holds what no database stores."""
    if isinstance(value, str) and not is_clean_text(value):
        yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unclean_text(item, (*loc, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _unclean_text(item, (*loc, index))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def is_clean_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no unpaired surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """What the database refuses after validation (a duplicate, a value out of range) is the
    client's problem, not a server error; the transaction is rolled back either way."""
    try:
        yield
    except IntegrityError:
        raise Conflict() from None
    except DataError:
        raise BadParameter(field="body", problem=_("A value is out of range for the database.")) from None
    except StatementError as exc:
        if isinstance(exc.orig, OverflowError):
            raise BadParameter(field="body", problem=_("A value is out of range for the database.")) from None
        raise
