"""What a list request asks: its query parameters (each at most once, only known names), the
page size, the sort, filter values typed from their columns, and the cursor.

Pagination is keyset: the cursor carries the last row's sort key and id, and the next page
starts strictly after them, so rows added or deleted meanwhile never make a page skip or repeat
a row. Unknown query parameters are refused (400) like unknown body fields (422): a typo in a
filter must not silently widen a list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

from pyramid.request import Request
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, SmallInteger
from sqlalchemy.sql.schema import Column

from core.api.bodies import is_clean_text
from core.api.exceptions import BadCursor, BadParameter
from core.api.resources import ApiResource, column_type
from core.i18n import _

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_PARAMETER_LENGTH = 1000
MAX_CURSOR_LENGTH = 2000
MAX_ID = 2**31 - 1
INT_RANGES = {BigInteger: 2**63, SmallInteger: 2**15, Integer: 2**31}  # most specific first
INTEGER = re.compile(r"^-?[0-9]{1,19}$")


def query_parameters(request: Request, *, allowed: set[str] | frozenset[str]) -> dict[str, str]:
    """The query string as a dict: each parameter at most once, only known names, clean text."""
    try:
        items = list(request.GET.items())
    except UnicodeError:
        raise BadParameter(field="?", problem=_("The query string is not valid UTF-8.")) from None
    params: dict[str, str] = {}
    for key, value in items:
        if key not in allowed:
            raise BadParameter(field=_printable(key), problem=_("Unknown parameter."))
        if key in params:
            raise BadParameter(field=key, problem=_("Given more than once."))
        if len(value) > MAX_PARAMETER_LENGTH or not is_clean_text(value):
            raise BadParameter(field=key, problem=_("Too long, or holds characters that are not allowed."))
        params[key] = value
    return params


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadParameter(field="limit", problem=_("A whole number from 1 to ${max}.", mapping={"max": MAX_LIMIT}))
    return int(raw)


def parse_sort(resource: ApiResource, raw: str) -> tuple[str, bool]:
    descending = raw.startswith("-")
    field = raw[1:] if descending else raw
    if field not in resource.sort:
        fields = ", ".join(resource.sort)
        raise BadParameter(field="sort", problem=_("One of ${fields}, with “-” before it to reverse.",
                                                   mapping={"fields": fields}))
    return field, descending


def parse_value(column: Column, param: str, raw: str) -> Any:
    """A filter's text as the column's type; 400 when it cannot be one."""
    kind = column_type(column)
    if isinstance(kind, Boolean):
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise BadParameter(field=param, problem=_("true or false."))
    for int_type, bound in INT_RANGES.items():
        if isinstance(kind, int_type):
            if not INTEGER.match(raw) or not -bound <= int(raw) < bound:
                raise BadParameter(field=param, problem=_("A whole number in range."))
            return int(raw)
    if isinstance(kind, DateTime):
        return _datetime(param, raw)
    if isinstance(kind, Date):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise BadParameter(field=param, problem=_("A date (YYYY-MM-DD).")) from None
    return raw


def _datetime(param: str, raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise BadParameter(field=param, problem=_("A date and time with its UTC offset (ISO 8601).")) from None
    return value


def encode_cursor(sort: str, value: Any, last_id: int) -> str:
    """Opaque to clients: base64url of the sort, the last row's sort key and its id."""
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    raw = json.dumps({"s": sort, "v": value, "i": last_id}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(column_of: Callable[[str], Column], sort: str, cursor: str) -> tuple[Any, int]:
    """The sort key and id a cursor carries; BadCursor if it is not one this list made.
    ``column_of(field)`` is the sort field's column (API resources and list pages both have one)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor()
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, RecursionError):
        raise BadCursor() from None
    if not isinstance(data, dict) or set(data) != {"s", "v", "i"} or data["s"] != sort:
        raise BadCursor()
    last_id = data["i"]
    if type(last_id) is not int or not 0 <= last_id <= MAX_ID:
        raise BadCursor()
    field = sort.lstrip("-")
    column = column_of(field)
    kind = column_type(column)
    value = data["v"]
    try:
        if field == "id":
            value = last_id
        elif isinstance(kind, DateTime | Date):
            if not isinstance(value, str):
                raise BadCursor()
            value = parse_value(column, "cursor", value)
        elif isinstance(kind, Boolean):
            if type(value) is not bool:
                raise BadCursor()
        elif isinstance(kind, Integer | SmallInteger | BigInteger):
            if type(value) is not int or abs(value) >= 2**63:
                raise BadCursor()
        elif not isinstance(value, str) or not is_clean_text(value):
            raise BadCursor()
    except BadParameter:
        raise BadCursor() from None
    return value, last_id


def _printable(value: str) -> str:
    return value[:64].encode("utf-8", "backslashreplace").decode("utf-8")
