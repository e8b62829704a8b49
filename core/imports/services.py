"""An import's steps, for the pages (and tests): upload → mapping → preview → start, then the
report's figures and its errors file. The run itself is ``core.imports.jobs``.

An import belongs to the user who uploaded it: every step looks it up with ``get_import``,
which treats another user's import as missing (404, ids cannot be probed)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pyramid.i18n import TranslationString
from sqlalchemy import select

from core.access.exceptions import PermissionDenied, RecordNotFound
from core.context import Ctx
from core.files import read_file_data, store_file
from core.i18n import _
from core.imports.declaration import ImportSpec, spec_reference
from core.imports.exceptions import (
    ImportAlreadyStarted,
    KeyFieldInvalid,
    KeyFieldNeeded,
    MappingIncomplete,
    UpdateNotOffered,
    UploadExpired,
)
from core.imports.mapping import check_mapping, remember_mapping
from core.imports.models import ImportRowError, ImportRun
from core.imports.reading import limits, read_upload, stored_rows, table_csv
from core.imports.validation import CheckedRow, check_row
from core.jobs.models import Job
from core.jobs.queue import enqueue

UPLOADED, QUEUED, RUNNING, DONE, FAILED = "uploaded", "queued", "running", "done", "failed"
STATE_TITLES = {UPLOADED: _("Not started"), QUEUED: _("Waiting to start"), RUNNING: _("Importing"),
                DONE: _("Completed"), FAILED: _("Stopped")}
CREATE, UPDATE = "create", "update"
#: An upload is kept this long (core.files purges it), a run's errors as long as the run.
FILE_LIFETIME = dt.timedelta(days=7)
PREVIEW_ROWS = 20
FILENAME_LENGTH = 255


# -- who may import --------------------------------------------------------------------------

def may_import(ctx: Ctx, spec: ImportSpec) -> bool:
    """Creating or updating records of the import's model: one of the two is enough to start."""
    return ctx.access.can(f"{spec.access_key}:create") or ctx.access.can(f"{spec.access_key}:write")


def require_importer(ctx: Ctx, spec: ImportSpec) -> None:
    if ctx.user is None or not may_import(ctx, spec):
        raise PermissionDenied(permission=f"{spec.access_key}:create")


# -- upload ----------------------------------------------------------------------------------

def create_import(ctx: Ctx, spec: ImportSpec, filename: str, data: bytes) -> ImportRun:
    """Read the upload (``FileRefused`` when it cannot be), keep its rows as UTF-8 CSV and
    start an import of it in the state ``uploaded``."""
    require_importer(ctx, spec)
    max_bytes, max_rows = limits(ctx.settings)
    table = read_upload(filename, data, max_bytes=max_bytes, max_rows=max_rows)
    name = display_name(filename)
    stored = store_file(ctx, ctx.user.id, name, "text/csv; charset=utf-8", table_csv(table), "import",
                        keep=FILE_LIFETIME)
    run = ImportRun(user_id=ctx.user.id, import_key=spec.key, state=UPLOADED, filename=name,
                    encoding=table.encoding, file_id=stored.id, headers=table.headers, total_rows=len(table.rows),
                    mapping={}, created_at=ctx.now)
    ctx.dbsession.add(run)
    ctx.dbsession.flush()
    return run


def display_name(filename: str) -> str:
    """The file's own name (browsers of old sent the whole path), at most 255 characters."""
    name = os.path.basename(filename.replace("\\", "/")).strip() or "upload"
    return name[-FILENAME_LENGTH:]


def get_import(ctx: Ctx, import_id: int) -> ImportRun:
    """The caller's own import, else ``RecordNotFound``."""
    run = ctx.dbsession.get(ImportRun, import_id)
    if run is None or ctx.user is None or run.user_id != ctx.user.id:
        raise RecordNotFound()
    return run


def recent_imports(ctx: Ctx, key: str, limit: int = 5) -> list[ImportRun]:
    return list(ctx.dbsession.scalars(select(ImportRun).where(ImportRun.user_id == ctx.user.id,
                                                              ImportRun.import_key == key)
                                      .order_by(ImportRun.id.desc()).limit(limit)))


def import_rows(ctx: Ctx, run: ImportRun, start: int = 0, stop: int | None = None) -> list[list[str]]:
    """Data rows ``start`` to ``stop`` of the upload (0 = the row below the header)."""
    if run.file_id is None:
        raise UploadExpired()
    try:
        data = read_file_data(ctx, run.file_id)  # the uploader's own, unexpired file
    except RecordNotFound:
        raise UploadExpired() from None
    return stored_rows(data, start, stop)


# -- mapping, preview, start -------------------------------------------------------------------

def save_mapping(ctx: Ctx, spec: ImportSpec, run: ImportRun, chosen: Mapping[int, str]) -> None:
    """Keep ``{column index: field}`` on the import and remember it for the user's next file."""
    _require_not_started(run)
    column_errors, missing = check_mapping(spec, chosen)
    if column_errors or missing or any(not 0 <= index < len(run.headers) for index in chosen):
        raise MappingIncomplete()
    run.mapping = {str(index): field for index, field in sorted(chosen.items())}
    remember_mapping(ctx, spec.key, run.headers, chosen)


def chosen_mapping(run: ImportRun) -> dict[int, str]:
    return {int(index): field for index, field in run.mapping.items()}


def preview_rows(ctx: Ctx, spec: ImportSpec, run: ImportRun,
                 limit: int = PREVIEW_ROWS) -> list[tuple[int, CheckedRow]]:
    """The first rows as the run will see them: ``(row number in the file, checked row)``."""
    return [(index + 2, check_row(spec, run.mapping, row))
            for index, row in enumerate(import_rows(ctx, run, 0, limit))]


def key_field_choices(spec: ImportSpec, run: ImportRun) -> list[str]:
    """The key fields the mapping fills: only these can find existing records."""
    mapped = set(run.mapping.values())
    return [name for name in spec.key_fields if name in mapped]


def start_import(ctx: Ctx, spec: ImportSpec, run: ImportRun, *, mode: str, key_field: str | None) -> None:
    """Queue the first batch. ``mode`` "create" makes new records (with a ``key_field``, rows
    whose record exists are skipped); "update" updates the record the key finds and creates
    the rest."""
    _require_not_started(run)
    if not run.mapping:
        raise MappingIncomplete()
    key_field = key_field or None
    if mode == UPDATE:
        if spec.update is None:
            raise UpdateNotOffered()
        if key_field is None:
            raise KeyFieldNeeded()
        ctx.access.require(f"{spec.access_key}:write")
    elif mode == CREATE:
        ctx.access.require(f"{spec.access_key}:create")
    else:
        raise UpdateNotOffered()
    if key_field is not None and key_field not in key_field_choices(spec, run):
        raise KeyFieldInvalid()
    import_rows(ctx, run, 0, 0)  # refuses an upload that is no longer kept
    run.mode, run.key_field, run.state = mode, key_field, QUEUED
    enqueue_batch(ctx, run, spec_reference(spec) or "", 0)


def enqueue_batch(ctx: Ctx, run: ImportRun, reference: str, start: int) -> None:
    from core.imports.jobs import IMPORT_BATCH_JOB

    enqueue(ctx, IMPORT_BATCH_JOB, {"import_id": run.id, "start": start, "spec": reference},
            dedupe_key=batch_key(run.id, start))


def batch_key(import_id: int, start: int) -> str:
    """One job per batch, ever: a batch enqueued twice is added once."""
    return f"core.import_batch:{import_id}:{start}"


def _require_not_started(run: ImportRun) -> None:
    if run.state != UPLOADED:
        raise ImportAlreadyStarted()


# -- progress and report -------------------------------------------------------------------------

def stalled_job(ctx: Ctx, run: ImportRun) -> Job | None:
    """The batch job that gave up (dead after its attempts, or cancelled), if the run waits on one."""
    if run.state not in (QUEUED, RUNNING):
        return None
    job = ctx.dbsession.scalar(select(Job).where(Job.dedupe_key == batch_key(run.id, run.processed)))
    return job if job is not None and job.state in ("dead", "cancelled") else None


def row_errors(ctx: Ctx, run: ImportRun, limit: int | None = None) -> Iterator[ImportRowError]:
    query = select(ImportRowError).where(ImportRowError.import_id == run.id).order_by(
        ImportRowError.row_number, ImportRowError.id)
    if limit is not None:
        query = query.limit(limit)
    return iter(ctx.dbsession.scalars(query.execution_options(yield_per=1000)))


def errors_table(ctx: Ctx, run: ImportRun) -> tuple[list[str | TranslationString], Iterator[list[Any]]]:
    """The errors file: row number in the upload, the reason, then the row as it was uploaded
    (so the user can fix the rows and import this file again)."""
    header: list[str | TranslationString] = [_("Row"), _("Reason"), *run.headers]
    return header, ([error.row_number, error.reason, *error.values] for error in row_errors(ctx, run))


def column_names(spec: ImportSpec, run: ImportRun) -> dict[str, str]:
    """``{field: the header of the column mapped to it}``: reasons name the user's own columns."""
    known = set(spec.field_names)  # an extra field retired since the mapping is not imported
    return {field: run.headers[int(index)] or str(spec.field(field).label)
            for index, field in run.mapping.items() if int(index) < len(run.headers) and field in known}


def mapped_columns(run: ImportRun) -> Sequence[tuple[int, str]]:
    return [(int(index), field) for index, field in sorted(run.mapping.items(), key=lambda item: int(item[0]))]
