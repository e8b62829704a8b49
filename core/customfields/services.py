"""Custom fields: their definitions (admins), and reading, checking and writing records' values
(the owning addon's services call these inside their own transaction and permission checks)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, not_, or_, select, update

from core.config_cache import cached
from core.contributions import RecordChange
from core.customfields.exceptions import (
    CustomValueInvalid,
    CustomValueRequired,
    FieldChoicesInvalid,
    FieldKindFixed,
    FieldKindUnknown,
    FieldLabelRequired,
    FieldLabelTaken,
    FieldModelUnknown,
    TooManyFields,
)
from core.customfields.models import KINDS, VALUE_COLUMNS, CustomField, CustomValue, HasCustomFields
from core.db import Base
from core.i18n import _

MAX_FIELDS_PER_MODEL = 50
MAX_CHOICES = 200
MAX_TEXT = 500
#: Numeric(20, 4): what fits without rounding surprises.
MAX_NUMBER = decimal.Decimal("1e15")


# ---------------------------------------------------------------- definitions


def custom_models() -> dict[str, type]:
    """Every mapped model that accepts custom fields, by table name."""
    return {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers
            if issubclass(mapper.class_, HasCustomFields)}


@dataclasses.dataclass(frozen=True)
class FieldDef:
    """An active field as read: a plain copy the process keeps between requests."""

    id: int
    model: str
    label: str
    kind: str
    choices: tuple[str, ...] | None
    required: bool
    position: int

    @property
    def name(self) -> str:
        return f"cf_{self.id}"


def fields_for(ctx: Any, model: type | str) -> tuple[FieldDef, ...]:
    """The model's active fields in their order: what forms, lists, imports and the API offer.
    Kept per process (``core.config_cache``), so most pages read them without a query."""
    table = model if isinstance(model, str) else model.__tablename__  # type: ignore[attr-defined]

    def load() -> tuple[FieldDef, ...]:
        return tuple(FieldDef(f.id, f.model, f.label, f.kind, tuple(f.choices) if f.choices is not None else None,
                              f.required, f.position)
                     for f in all_fields(ctx, table) if f.active)
    return cached(ctx, f"core.custom_fields:{table}", load)


def all_fields(ctx: Any, model: type | str) -> list[CustomField]:
    """Every field of the model in its order, retired ones too, as rows to change (admins)."""
    table = model if isinstance(model, str) else model.__tablename__  # type: ignore[attr-defined]
    return list(ctx.dbsession.scalars(select(CustomField).where(CustomField.model == table)
                                      .order_by(CustomField.position, CustomField.id)))


def save_field(ctx: Any, model: str, field_id: int | None = None, *, label: str, kind: str,
               choices: Iterable[str] | str | None = None, required: bool = False, active: bool = True,
               position: int | None = None) -> CustomField:
    """Add or change a field of ``model`` (a table name). A field's kind is fixed once records
    hold values of it; retiring (``active=False``) hides it without losing them."""
    ctx.access.require("core.custom_field:admin")
    if model not in custom_models():
        raise FieldModelUnknown()
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise FieldLabelRequired()
    if kind not in KINDS:
        raise FieldKindUnknown()
    options = _choices(choices) if kind == "select" else None
    existing = all_fields(ctx, model)
    field = next((f for f in existing if f.id == field_id), None) if field_id is not None else None
    if field_id is not None and field is None:
        raise FieldModelUnknown()
    if any(f.label == label and f is not field for f in existing):
        raise FieldLabelTaken(label=label)
    if field is None:
        if len(existing) >= MAX_FIELDS_PER_MODEL:
            raise TooManyFields(count=MAX_FIELDS_PER_MODEL)
        field = CustomField(model=model, position=max((f.position for f in existing), default=0) + 10)
        ctx.dbsession.add(field)
        before: dict[str, Any] = {}
    else:
        if field.kind != kind and _has_values(ctx, field):
            raise FieldKindFixed()
        before = {"label": field.label, "kind": field.kind, "choices": field.choices, "required": field.required,
                  "active": field.active, "position": field.position}
    field.label, field.kind, field.choices, field.required, field.active = label, kind, options, required, active
    if position is not None:
        field.position = position
    ctx.dbsession.flush()
    after = {"label": label, "kind": kind, "choices": options, "required": required, "active": active,
             "position": field.position}
    changes = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    if changes:
        _report(ctx, "updated" if before else "created", field.__tablename__, field.id, changes)
    return field


def _choices(raw: Iterable[str] | str | None) -> list[str]:
    lines = raw.splitlines() if isinstance(raw, str) else list(raw or ())
    options = list(dict.fromkeys(line.strip() for line in lines if line and line.strip()))
    if not options or len(options) > MAX_CHOICES or any(len(o) > 100 for o in options):
        raise FieldChoicesInvalid()
    return options


def _has_values(ctx: Any, field: CustomField) -> bool:
    return ctx.dbsession.scalar(select(CustomValue.id).where(CustomValue.field_id == field.id).limit(1)) is not None


# ---------------------------------------------------------------- values


def parse_value(field: FieldDef, raw: Any) -> Any:
    """A form's, an import's or the API's value as the field's type; None for blank. Raises
    CustomValueInvalid naming the field."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field.kind in ("text", "select"):
        text = str(raw).strip()
        if len(text) > MAX_TEXT:
            raise CustomValueInvalid(field=field.label, problem=_("at most ${count} characters",
                                                                  mapping={"count": MAX_TEXT}))
        if field.kind == "select" and text not in (field.choices or []):
            raise CustomValueInvalid(field=field.label, problem=_("choose one of the listed options"))
        return text
    if field.kind == "number":
        try:
            number = raw if isinstance(raw, decimal.Decimal) else decimal.Decimal(str(raw).strip().replace(",", ""))
        except decimal.InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) >= MAX_NUMBER:
            raise CustomValueInvalid(field=field.label, problem=_("enter a number"))
        if int(number.as_tuple().exponent) < -4:
            raise CustomValueInvalid(field=field.label, problem=_("at most 4 decimal places"))
        return number
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise CustomValueInvalid(field=field.label, problem=_("enter a date as YYYY-MM-DD")) from None


def values_for(ctx: Any, model: type | str, record_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{record_id: {field name: value}}`` for the records (one query; active fields only)."""
    table = model if isinstance(model, str) else model.__tablename__  # type: ignore[attr-defined]
    ids = list(record_ids)
    out: dict[int, dict[str, Any]] = {record_id: {} for record_id in ids}
    if not ids:
        return out
    rows = ctx.dbsession.execute(
        select(CustomValue, CustomField.kind).join(CustomField, CustomField.id == CustomValue.field_id)
        .where(CustomField.model == table, CustomField.active.is_(True), CustomValue.record_id.in_(ids)))
    for value, kind in rows:
        out[value.record_id][f"cf_{value.field_id}"] = value.value(kind)
    return out


def shown_values(ctx: Any, record: Any) -> list[tuple[str, Any]]:
    """``(label, value)`` of a record's custom fields for its page, in the admin's order, blanks
    as "—" (one query; none when the model has no fields)."""
    fields = fields_for(ctx, type(record))
    if not fields:
        return []
    values = values_for(ctx, type(record), [record.id])[record.id]
    return [(field.label, values.get(field.name, "—")) for field in fields]


def set_values(ctx: Any, record: Any, raw: Mapping[str, Any], *, creating: bool = False) -> dict[str, tuple[Any, Any]]:
    """Check and write the record's values given in ``raw`` (by field name, ``cf_<id>``); a
    required field must be given on create and cannot be blanked. All or nothing: every value is
    checked before any is written. Reports the changes (by field label) through
    ``kehu_record_changed``; returns them."""
    fields = fields_for(ctx, type(record))
    parsed: dict[int, Any] = {}
    for field in fields:
        if field.name in raw:
            parsed[field.id] = parse_value(field, raw[field.name])
            if parsed[field.id] is None and field.required:
                raise CustomValueRequired(field=field.label)
        elif creating and field.required:
            raise CustomValueRequired(field=field.label)
    if not parsed:
        return {}
    current = {v.field_id: v for v in ctx.dbsession.scalars(
        select(CustomValue).where(CustomValue.field_id.in_(list(parsed)), CustomValue.record_id == record.id))}
    changes: dict[str, tuple[Any, Any]] = {}
    for field in fields:
        if field.id not in parsed:
            continue
        new, row = parsed[field.id], current.get(field.id)
        old = row.value(field.kind) if row is not None else None
        if old == new:
            continue
        if new is None:
            ctx.dbsession.delete(row)
        else:
            if row is None:
                row = CustomValue(field_id=field.id, record_id=record.id)
                ctx.dbsession.add(row)
            setattr(row, VALUE_COLUMNS[field.kind], new)
        changes[field.label] = (_plain(old), _plain(new))
    ctx.dbsession.flush()
    if changes:
        _report(ctx, "updated", record.__tablename__, record.id, changes)
    return changes


def forget_records(ctx: Any, model: type | str, record_ids: Iterable[int]) -> None:
    """Drop the values of records deleted for good (there is no foreign key to cascade)."""
    table = model if isinstance(model, str) else model.__tablename__  # type: ignore[attr-defined]
    ids = list(record_ids)
    if ids:
        ctx.dbsession.execute(delete(CustomValue).where(
            CustomValue.record_id.in_(ids),
            CustomValue.field_id.in_(select(CustomField.id).where(CustomField.model == table))))


def move_values(ctx: Any, model: type, source_id: int, target_id: int) -> int:
    """A merge: the target keeps its values and takes the source's where it has none; the
    source's others go. Returns how many moved."""
    table = model.__tablename__  # type: ignore[attr-defined]
    fields = select(CustomField.id).where(CustomField.model == table)
    on_target = select(CustomValue.field_id).where(CustomValue.record_id == target_id, CustomValue.field_id.in_(fields))
    moved = ctx.dbsession.execute(
        update(CustomValue).where(CustomValue.record_id == source_id, CustomValue.field_id.in_(fields),
                                  CustomValue.field_id.not_in(on_target))
        .values(record_id=target_id).execution_options(synchronize_session=False)).rowcount or 0
    forget_records(ctx, model, [source_id])
    return moved


# ---------------------------------------------------------------- filters


def filter_condition(model: Any, field: FieldDef, op: str, value: Any, value2: Any = None) -> ColumnElement[bool]:
    """The records of ``model`` whose value of ``field`` satisfies ``op`` — an indexed lookup
    on (field, value). Values are already parsed (``parse_value``)."""
    column = getattr(CustomValue, VALUE_COLUMNS[field.kind])
    present = select(CustomValue.record_id).where(CustomValue.field_id == field.id)
    if op == "empty":
        return not_(model.id.in_(present))
    if op == "not_empty":
        return model.id.in_(present)
    if op == "ne":
        return not_(model.id.in_(present.where(column == value)))
    if op == "not_contains":
        return not_(model.id.in_(present.where(func.lower(column).contains(str(value).lower(), autoescape=True))))
    match = {
        "eq": lambda: column == value, "gt": lambda: column > value, "ge": lambda: column >= value,
        "lt": lambda: column < value, "le": lambda: column <= value,
        "contains": lambda: func.lower(column).contains(str(value).lower(), autoescape=True),
        "starts": lambda: func.lower(column).startswith(str(value).lower(), autoescape=True),
        "ends": lambda: func.lower(column).endswith(str(value).lower(), autoescape=True),
        "between": lambda: and_(*([column >= value] if value is not None else []),
                                *([column <= value2] if value2 is not None else [])),
    }[op]()
    return model.id.in_(present.where(or_(match)))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _report(ctx: Any, action: str, table: str, record_id: int, changes: dict[str, tuple[Any, Any]]) -> None:
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        action, table, record_id, changes, user_id=ctx.user.id if ctx.user is not None else None, at=ctx.now))
