"""Custom fields in an addon's JSON API: ``custom`` in a record's body, ``{"cf_<id>": value}``.

Read: JSON-typed values (a number as a number, a date as ``YYYY-MM-DD``, a choice as its text)
for a whole response in one query (``api_values``). Write: ``write_api_values`` refuses an
unknown field name (``errors[].field`` = ``custom.<name>``, as any unknown field is refused,
not ignored) and a bad value (the field's own translated message), before anything is written.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from core.customfields.exceptions import CustomValueRequired
from core.customfields.services import fields_for, parse_value, set_values, values_for
from core.exceptions import KehuError, ValidationFailed
from core.i18n import _

#: What a value in ``custom`` may be in JSON.
JsonValue = str | int | float | None


def api_values(ctx: Any, model: type, record_ids: Iterable[int]) -> dict[int, dict[str, JsonValue]]:
    """``{record id: {field name: JSON value}}`` of the active fields (one query)."""
    return {record_id: {name: _json(value) for name, value in values.items()}
            for record_id, values in values_for(ctx, model, record_ids).items()}


def _json(value: Any) -> JsonValue:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value  # type: ignore[no-any-return]


def check_api_values(ctx: Any, model: type, raw: Mapping[str, Any], *, creating: bool = False) -> None:
    """Refuse the body's ``custom`` before any write: an unknown (or retired) field, a value that
    is not text, a number or null, a value the field refuses, a required field left out on
    create or blanked."""
    fields = {field.name: field for field in fields_for(ctx, model)}
    for name in raw:
        if name not in fields:
            raise ValidationFailed(field=f"custom.{name}", problem=_("Unknown field: it is refused, not ignored."))
    for name, value in raw.items():
        field = fields[name]
        if isinstance(value, bool) or not isinstance(value, str | int | float | type(None)):
            raise ValidationFailed(field=f"custom.{name}", problem=_("Must be text, a number or null."))
        try:
            parsed = parse_value(field, value)
            if parsed is None and field.required:
                raise CustomValueRequired(field=field.label)
        except KehuError as refused:
            raise _at(refused, name) from None
    if creating:
        for name, field in fields.items():
            if field.required and name not in raw:
                raise _at(CustomValueRequired(field=field.label), name)


def write_api_values(ctx: Any, record: Any, raw: Mapping[str, Any] | None, *, creating: bool = False) -> None:
    """``check_api_values``, then ``set_values`` (changes reported like the form's)."""
    raw = raw or {}
    check_api_values(ctx, type(record), raw, creating=creating)
    if raw or creating:
        set_values(ctx, record, raw, creating=creating)


def _at(error: KehuError, name: str) -> KehuError:
    """The refusal, saying which key of ``custom`` it is about (``errors[].field``)."""
    error.field_errors = [(f"custom.{name}", error)]  # type: ignore[attr-defined]
    return error

