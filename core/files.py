"""Files the server makes or receives for a user — export results, uploaded imports, error
reports — kept in the database so any app server or worker can serve them (stateless servers,
ARCHITECTURE §9), and dropped after ``expires_at``.

A file belongs to its owner alone: ``own_file`` answers RecordNotFound (404) for anyone else's
file and for an expired one, exactly as for an id that never existed, so ids cannot be probed.
``purge_expired_files`` runs nightly (``core.purge_expired_files``) and also sweeps what other
background work leaves behind (see its docstring).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, deferred, mapped_column, undefer

from core.access.exceptions import RecordNotFound
from core.db import Base, UTCDateTime, utcnow

#: The download route's path (``core.files.download``), also used where no request is at hand
#: (a worker's notification links to it).
DOWNLOAD_PATH = "/files/{id}"
#: "attachment": a file an addon links to its records (their access rules, not the owner's, apply).
PURPOSES = ("export", "import", "import_errors", "attachment")
DEFAULT_KEEP = dt.timedelta(days=7)
#: Finished background jobs and export runs are kept this long for administrators, then dropped.
HISTORY_KEEP = dt.timedelta(days=30)


class StoredFile(Base):
    __tablename__ = "core_stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, default=0)
    #: "export", "import", "import_errors": what made it.
    purpose: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    def download_path(self) -> str:
        return DOWNLOAD_PATH.format(id=self.id)


def store_file(ctx: Any, owner_id: int, name: str, content_type: str, data: bytes, purpose: str, *,
               keep: dt.timedelta = DEFAULT_KEEP) -> StoredFile:
    """Keep ``data`` for ``owner_id`` until ``keep`` from now; in the caller's transaction."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown file purpose {purpose!r}; one of {PURPOSES}")
    stored = StoredFile(owner_id=owner_id, name=_clean_name(name), content_type=content_type[:100],
                        size=len(data), purpose=purpose, data=data, created_at=ctx.now,
                        expires_at=ctx.now + keep)
    ctx.dbsession.add(stored)
    ctx.dbsession.flush()
    return stored


def own_file(ctx: Any, file_id: int, *, with_data: bool = False) -> StoredFile:
    """The caller's own, unexpired file; RecordNotFound otherwise (someone else's included)."""
    if ctx.user is None:
        raise RecordNotFound()
    # an attachment is guarded by its record's rules (the addon's own route), not by who uploaded it
    query = select(StoredFile).where(StoredFile.id == file_id, StoredFile.owner_id == ctx.user.id,
                                     StoredFile.expires_at > ctx.now, StoredFile.purpose != "attachment")
    if with_data:
        query = query.options(undefer(StoredFile.data))
    stored = ctx.dbsession.scalar(query)
    if stored is None:
        raise RecordNotFound()
    return stored


def read_file_data(ctx: Any, file_id: int) -> bytes:
    """The bytes of the caller's own file (RecordNotFound as ``own_file``)."""
    return own_file(ctx, file_id, with_data=True).data


def purge_expired_files(ctx: Any) -> dict[str, int]:
    """The nightly sweep (periodic job ``core.purge_expired_files``); returns what it removed.

    * stored files past ``expires_at`` (exports, uploads, error reports);
    * rows of finished exports' chunks (normally deleted by the export's last chunk; left over
      only by an export whose chunk job died — marked failed here first);
    * export runs and background jobs (``done``/``cancelled``; ``dead`` ones stay until an
      administrator retries or cancels them) finished more than 30 days ago.
    """
    from core.jobs.models import CANCELLED, DONE, Job
    from core.lists.export import fail_stalled_exports
    from core.lists.export_models import ExportChunk, ExportRun

    session = ctx.dbsession
    history = ctx.now - HISTORY_KEEP
    finished = select(ExportRun.id).where(ExportRun.state.in_(("done", "failed")))
    removed = {
        "stalled_exports": fail_stalled_exports(ctx),
        "files": session.execute(delete(StoredFile).where(StoredFile.expires_at <= ctx.now)).rowcount,
        "export_chunks": session.execute(delete(ExportChunk).where(ExportChunk.export_id.in_(finished))).rowcount,
    }
    removed["exports"] = session.execute(delete(ExportRun).where(ExportRun.finished_at < history)).rowcount
    removed["jobs"] = session.execute(delete(Job).where(Job.state.in_((DONE, CANCELLED)),
                                                        Job.finished_at < history)).rowcount
    return removed


def file_response(data: bytes, content_type: str, name: str) -> Any:
    """A download: attachment, never cached outside the browser, never sniffed (the security
    headers tween adds ``X-Content-Type-Options: nosniff`` to every response)."""
    from pyramid.response import Response

    media_type, _semicolon, parameters = content_type.partition(";")
    response = Response(body=data, content_type=media_type.strip(), content_disposition=content_disposition(name))
    if "charset=" in parameters:
        response.charset = parameters.split("charset=", 1)[1].strip()
    response.cache_control = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the real (Chinese) name
    as RFC 5987 ``filename*``: ``便签-2026-11-25.csv``."""
    name = _clean_name(name)
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "", stem).strip("._-") or "download"
    ascii_extension = re.sub(r"[^A-Za-z0-9]+", "", extension)
    fallback = f"{ascii_stem}.{ascii_extension}" if ascii_extension else ascii_stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _clean_name(name: str) -> str:
    """A file name without paths or control characters, at most 255 characters, extension kept."""
    clean = "".join(" " if ch in '/\\"' or ord(ch) < 32 or ord(ch) == 127 else ch for ch in name).strip() or "file"
    if len(clean) <= 255:
        return clean
    stem, dot, extension = clean.rpartition(".")
    if dot and 0 < len(extension) <= 10:
        return stem[:254 - len(extension)] + "." + extension
    return clean[:255]
