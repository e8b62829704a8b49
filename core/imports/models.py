"""An import's state, its per-row errors, and each user's remembered column mapping."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class ImportRun(Base):
    """One uploaded file on its way in: uploaded → queued → running → done | failed."""

    __tablename__ = "core_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    import_key: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default="uploaded")
    filename: Mapped[str] = mapped_column(String(255))
    #: The encoding the file was read in ("utf-8", "gb18030", "xlsx").
    encoding: Mapped[str] = mapped_column(String(32))
    #: The rows as UTF-8 CSV (header first), whatever the upload's format.
    file_id: Mapped[int | None] = mapped_column(ForeignKey("core_stored_file.id", ondelete="SET NULL"), default=None)
    headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    #: "create" (existing key → skipped) or "update" (by ``key_field``; missing → created).
    mode: Mapped[str] = mapped_column(String(16), default="create")
    key_field: Mapped[str | None] = mapped_column(String(64), default=None)
    #: ``{column index (as text): field name}``
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class ImportRowError(Base):
    """A row that did not go in, and why (for the errors file)."""

    __tablename__ = "core_import_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("core_import.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    values: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ImportMapping(Base):
    """The mapping a user chose last time for this import, by header text."""

    __tablename__ = "core_import_mapping"
    __table_args__ = (UniqueConstraint("user_id", "import_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    import_key: Mapped[str] = mapped_column(String(100))
    #: ``{header text: field name}``
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
