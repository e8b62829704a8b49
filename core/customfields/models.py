"""The definitions (``core_custom_field``) and the values (``core_custom_value``)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.config_cache import config_model
from core.db import Model

#: The kinds an admin may choose; each stores its value in one typed column.
KINDS = ("text", "number", "date", "select")
VALUE_COLUMNS = {"text": "text_value", "select": "text_value", "number": "number_value", "date": "date_value"}


class HasCustomFields:
    """Mixin: the model's records may carry custom fields. ``custom_fields_title`` names the
    model on the admin page (客户)."""

    custom_fields_title: ClassVar[Any]


@config_model
class CustomField(Model):
    """One field an admin added to a model (by its table name)."""

    __tablename__ = "core_custom_field"
    __table_args__ = (Index("ix_core_custom_field_model_position", "model", "position"),)

    model: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    #: The options of a ``select`` field, in order; renaming one keeps records' old values.
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: A field is retired, never deleted while records hold values: history keeps its meaning.
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def name(self) -> str:
        """The field's name in forms, list filters, imports and the API."""
        return f"cf_{self.id}"


class CustomValue(Model):
    """A record's value of one field: only the column of the field's kind is set."""

    __tablename__ = "core_custom_value"
    __table_args__ = (
        Index("uq_core_custom_value_field_record", "field_id", "record_id", unique=True),
        Index("ix_core_custom_value_field_text", "field_id", "text_value"),
        Index("ix_core_custom_value_field_number", "field_id", "number_value"),
        Index("ix_core_custom_value_field_date", "field_id", "date_value"),
        Index("ix_core_custom_value_record", "record_id"),
    )

    field_id: Mapped[int] = mapped_column(ForeignKey("core_custom_field.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(Integer)
    text_value: Mapped[str | None] = mapped_column(String(500))
    number_value: Mapped[decimal.Decimal | None] = mapped_column(Numeric(20, 4))
    date_value: Mapped[dt.date | None] = mapped_column(Date)

    def value(self, kind: str) -> Any:
        """The stored value; a number without the column's trailing zeros (12.5, not 12.5000)."""
        value = getattr(self, VALUE_COLUMNS[kind])
        if isinstance(value, decimal.Decimal):
            return value.quantize(decimal.Decimal(1)) if value == value.to_integral() else value.normalize()
        return value
