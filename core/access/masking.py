"""Masking (脱敏, X6): one rule per kind of sensitive value, applied wherever a value leaves the
server — pages, API, exports, audit, search — for anyone without ``<access_key>:see_sensitive``.

A model marks a column ``info={"sensitive": "phone"}`` (or email, id_number, bank_account,
amount, text). Searching still runs on the stored value, so a full phone number finds its
record without revealing it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.schema import Column, Table


def mask_phone(value: str) -> str:
    """138****5678 for mobiles; landlines keep the area code and the last 2 digits."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 5)}{digits[-2:]}"


def mask_email(value: str) -> str:
    """z***@example.com: the first letter of the name and the whole domain."""
    name, at, domain = value.partition("@")
    if not at:
        return mask_text(value)
    return f"{name[:1]}***@{domain}"


def mask_id_number(value: str) -> str:
    """ID cards and unified social credit codes keep their first and last 4 characters."""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_bank_account(value: str) -> str:
    """Only the last 4 digits."""
    digits = re.sub(r"\s", "", value)
    return f"{'*' * max(len(digits) - 4, 4)}{digits[-4:]}"


def mask_text(value: str) -> str:
    return f"{value[:1]}***" if value else value


MASKS = {
    "phone": mask_phone,
    "email": mask_email,
    "id_number": mask_id_number,
    "bank_account": mask_bank_account,
    "amount": lambda value: "***",
    "text": mask_text,
}


def mask(kind: str | bool, value: Any) -> Any:
    """Mask ``value`` of the given kind (``True`` means plain text). ``None`` stays ``None``."""
    if value is None or value == "":
        return value
    masker = MASKS.get(kind if isinstance(kind, str) else "text", mask_text)
    return masker(str(value))


def sensitive_columns(model_or_table: Any) -> dict[str, str | bool]:
    """``{column name: kind}`` of the columns marked sensitive (read once per table: lists and
    exports ask for every cell)."""
    table: Table = model_or_table if isinstance(model_or_table, Table) else sa_inspect(model_or_table).local_table
    return _sensitive_columns(table)


@functools.lru_cache(maxsize=1024)
def _sensitive_columns(table: Table) -> dict[str, str | bool]:
    return {column.name: column.info["sensitive"] for column in table.columns if _is_sensitive(column)}


def _is_sensitive(column: Column) -> bool:
    return bool(column.info.get("sensitive"))


def may_see_sensitive(ctx: Any, model: Any) -> bool:
    key = getattr(model, "access_key", None)
    return ctx.access.superuser if key is None else ctx.access.can(f"{key}:see_sensitive")


def shown(ctx: Any, record: Any, field: str) -> Any:
    """The value of ``record.field`` as this user may see it."""
    value = getattr(record, field)
    kind = sensitive_columns(type(record)).get(field)
    if kind and not may_see_sensitive(ctx, type(record)):
        return mask(kind, value)
    return value


def record_values(ctx: Any, record: Any, fields: Iterable[str]) -> dict[str, Any]:
    """``{field: value}`` with sensitive values masked: the shape the API and exports use."""
    kinds = sensitive_columns(type(record))
    reveal = not kinds or may_see_sensitive(ctx, type(record))
    values = {}
    for field in fields:
        value = getattr(record, field)
        values[field] = value if reveal or field not in kinds else mask(kinds[field], value)
    return values
