"""An import runs as a chain of batch jobs, each batch all or nothing, exactly once.

The job ``core.import_batch`` with payload ``{import_id, start, spec}`` takes rows ``start`` to
``start + kehu.import_batch_size`` (default 500) of the stored upload and, acting as the
importing user (their permissions and record scope, audit entries in their name):

1. checks each row with the import's schema — an invalid row becomes an ``ImportRowError``
   (its reason, the row as uploaded) and is not written;
2. hands each valid row to the addon's ``create``/``update`` service inside a SAVEPOINT: a
   refusal of that one row (a ``KehuError``: no permission, a duplicate, a rule; or a unique
   constraint of the database) rolls back just that row's writes and becomes its error, and the
   batch goes on;
3. adds the batch's figures to the ``ImportRun`` (processed, created, updated, skipped,
   errors) and, in the same transaction, enqueues the job of the next batch — or, after the
   last one, marks the import done, writes an ``import`` audit entry and notifies the user.

*All or nothing per batch.* The worker runs the job in one transaction and commits it only
together with the job's own ``done`` mark (the queue's fence, ``core.jobs.queue``). So a
batch's records, its row errors, the new figures and the next batch's job commit together or
not at all: an unexpected exception (a bug, a lost database connection, a timeout) rolls the
whole batch back — no record of it written, ``processed`` unchanged — and the job is retried
with the earlier batches' work intact. A batch never commits twice: the fence refuses a
second run of a job, the next batch's job has a dedupe key (``import:<id>:<start>``), and a
batch whose ``start`` is not the import's ``processed`` does nothing. Between batches the
import's figures are committed, which is what the progress bar shows.

If a batch keeps failing, its job ends ``dead`` after its attempts: the import's page says so
(rows before that batch are in), and an administrator may retry the job from the jobs page
once the cause is fixed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.access.scopes import scope_condition
from core.audit.services import write_audit
from core.context import Ctx
from core.exceptions import KehuError
from core.i18n import _, localizer_for
from core.imports.declaration import ImportSpec, resolve_spec
from core.imports.exceptions import (
    AmbiguousKey,
    ImporterInactive,
    ImportUnavailable,
    KeyValueMissing,
    RowConflict,
    UploadExpired,
)
from core.imports.models import ImportRowError, ImportRun
from core.imports.services import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    UPDATE,
    column_names,
    enqueue_batch,
    import_rows,
)
from core.imports.validation import CheckedRow, check_row, describe
from core.models import User

log = logging.getLogger(__name__)

IMPORT_BATCH_JOB = "core.import_batch"
DEFAULT_BATCH_SIZE = 500
#: The notification links here (the report page, ``core.imports.show``).
REPORT_PATH = "/imports/{id}"


def batch_size(settings: Any) -> int:
    return max(1, int(settings.get("kehu.import_batch_size", DEFAULT_BATCH_SIZE)))


def run_import_batch(ctx: Ctx, payload: dict[str, Any]) -> None:
    """Import one batch (see the module's docstring); a handler of ``kehu_job_handlers``."""
    run = ctx.dbsession.get(ImportRun, payload["import_id"])
    start = int(payload["start"])
    if run is None or run.state not in (QUEUED, RUNNING) or run.processed != start:
        log.info("import batch %s: nothing to do (import gone, finished, or this batch ran)", payload)
        return
    user = ctx.dbsession.get(User, run.user_id)
    spec = resolve_spec(payload.get("spec", ""), run.import_key)
    if spec is None or spec.addon not in ctx.hooks.installed:
        _fail(ctx, run, user, ImportUnavailable())
        return
    if user is None or not user.active:
        _fail(ctx, run, user, ImporterInactive())
        return
    acting = dataclasses.replace(ctx.as_user(user), locale=user.locale)
    spec = spec.for_ctx(acting)
    try:
        rows = import_rows(acting, run, start, start + batch_size(ctx.settings))
    except UploadExpired as exc:
        _fail(ctx, run, user, exc)
        return
    run.state = RUNNING
    batch = _Batch(acting, spec, run)
    for offset, row in enumerate(rows):
        batch.import_row(start + offset + 2, row)  # row 1 is the header
    batch.add_figures()
    run.processed = start + len(rows)
    if run.processed < run.total_rows and rows:
        enqueue_batch(ctx, run, payload["spec"], run.processed)
    else:
        _finish(acting, spec, run)


class _Batch:
    """One batch's rows, written through the addon's services as the importing user."""

    def __init__(self, ctx: Ctx, spec: ImportSpec, run: ImportRun) -> None:
        self.ctx = ctx
        self.spec = spec
        self.run = run
        self.translate = localizer_for(ctx.locale).translate
        self.columns = column_names(spec, run)
        # Counted here and added to the import once: a changed ImportRun would be written again at
        # every row's savepoint.
        self.counts = {"created": 0, "updated": 0, "skipped": 0, "errors": 0}

    def add_figures(self) -> None:
        run = self.run
        run.created_count += self.counts["created"]
        run.updated_count += self.counts["updated"]
        run.skipped_count += self.counts["skipped"]
        run.error_count += self.counts["errors"]

    def import_row(self, number: int, row: list[str]) -> None:
        checked = check_row(self.spec, self.run.mapping, row)
        if checked.blank:
            self.counts["skipped"] += 1
            return
        if checked.data is None:
            self._error(number, row, describe(checked.problems, self.columns, self.translate))
            return
        session = self.ctx.dbsession
        try:
            with session.begin_nested():
                outcome = self._write(checked)
        except KehuError as exc:
            self._error(number, row, self.translate(exc.translation_string))
            return
        except IntegrityError:
            self._error(number, row, self.translate(RowConflict().translation_string))
            return
        self.counts[outcome] += 1

    def _write(self, checked: CheckedRow) -> str:
        spec, run, data = self.spec, self.run, checked.data
        if run.key_field is None:
            spec.create(self.ctx, checked.written())
            return "created"
        value = getattr(data, run.key_field, None)
        label = self.columns.get(run.key_field, run.key_field)
        if value in (None, ""):
            raise KeyValueMissing(field=label)
        action = "write" if run.mode == UPDATE else "read"
        column = getattr(spec.model, run.key_field)
        found = list(self.ctx.dbsession.scalars(
            select(spec.model).where(scope_condition(self.ctx, spec.model, action), column == value).limit(2)))
        if len(found) > 1:
            raise AmbiguousKey(field=label, value=value)
        if found and run.mode == UPDATE:
            assert spec.update is not None
            spec.update(self.ctx, found[0], checked.written(exclude_unset=True))
            return "updated"
        if found:  # create only: the record exists
            return "skipped"
        spec.create(self.ctx, checked.written())
        return "created"

    def _error(self, number: int, row: list[str], reason: str) -> None:
        self.ctx.dbsession.add(ImportRowError(import_id=self.run.id, row_number=number, reason=reason,
                                              values=list(row)))
        self.counts["errors"] += 1


def _finish(ctx: Ctx, spec: ImportSpec, run: ImportRun) -> None:
    from core.notifications.services import notify

    run.state, run.finished_at = DONE, ctx.now
    figures = {"file": run.filename, "rows": run.total_rows, "created": run.created_count,
               "updated": run.updated_count, "skipped": run.skipped_count, "errors": run.error_count}
    write_audit(ctx, "import", model=spec.model.__tablename__, record_id="",  # type: ignore[attr-defined]
                detail=json.dumps({"import": run.id, **figures}, ensure_ascii=False))
    notify(ctx, [run.user_id], "core.import_finished", run,
           _("${file}: ${created} created, ${updated} updated, ${skipped} skipped, ${errors} with errors.",
             mapping=figures),
           url=REPORT_PATH.format(id=run.id))


def _fail(ctx: Ctx, run: ImportRun, user: User | None, error: KehuError) -> None:
    """The import cannot go on: say why on its page, and tell its user."""
    from core.notifications.services import notify

    run.state, run.finished_at = FAILED, ctx.now
    run.error = error.translated(user.locale if user is not None else None)
    if user is not None and user.active:
        notify(ctx, [user.id], "core.import_finished", run, error.translation_string,
               url=REPORT_PATH.format(id=run.id))
