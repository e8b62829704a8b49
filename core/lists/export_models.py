"""A large export running as jobs: one row per export, its rows gathered chunk by chunk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class ExportRun(Base):
    __tablename__ = "core_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    list_key: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(8))
    #: The list's state when the export was asked for: view, conditions, q, sort, columns.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: queued → running → done | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    #: The keyset position the next chunk starts after.
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("core_stored_file.id", ondelete="SET NULL"), default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class ExportChunk(Base):
    """Rows of one chunk, already masked and made safe, until the last chunk writes the file."""

    __tablename__ = "core_export_chunk"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("core_export.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    rows: Mapped[list[Any]] = mapped_column(JSON)
