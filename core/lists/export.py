"""Export of a list page: the rows the list matches, as CSV (UTF-8 with a BOM) or XLSX.

What is exported is what the list shows its user — the same view, conditions, search and
columns, inside the user's scope for ``export`` and ``read``, masked and formula-safe (see
``core.lists.export_rows``). Every export is audited with its row count, format and conditions.

Small exports (at most ``kehu.export_sync_rows`` rows, one COUNT to know) are written in the
request and downloaded at once. Larger ones become an ``ExportRun`` worked through by the job
``core.export_chunk``, ``kehu.export_chunk_rows`` rows at a time, while the user watches a
progress bar (``/exports/<id>``); the last chunk writes the file (a ``StoredFile`` kept
``kehu.export_keep_days`` days) and notifies the user with a download link. A small export
comes in the list's own order; a background one in id order (newest first when the list is
sorted so), the one order a keyset over several transactions can keep exactly.

Each chunk commits exactly once. A chunk job acts as the exporting user (permissions, scope and
masking decided for that user at that moment) and, in its one transaction, reads the slice after
``ExportRun.cursor`` (keyset on ``id``, which never changes, so a row edited meanwhile is neither
lost nor repeated), stores it as an ``ExportChunk``, moves the cursor and enqueues the next
chunk's job. The job queue's fence (``core.jobs.queue.complete``) ends that transaction: if the
worker lost its lease, everything — the chunk, the cursor and the next job — rolls back, and
the retried job reads the same slice again. So the chain of jobs never forks (the next job
exists only if this chunk committed; its dedupe key ``core.export_chunk:<run>:<seq>`` makes
that doubly sure), never skips a slice and never stores one twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import delete, select

from core.audit.services import write_audit
from core.exceptions import KehuError
from core.files import StoredFile, file_response, store_file
from core.i18n import CORE_TRANSLATION_DIR, _, localizer_for
from core.jobs.queue import enqueue
from core.lists.custom_fields import with_custom_fields
from core.lists.declaration import ListPage
from core.lists.export_models import ExportChunk, ExportRun
from core.lists.export_rows import (
    FORMATS,
    Sheet,
    audit_detail,
    count_rows,
    export_columns,
    export_select,
    file_name,
    ordered_rows,
    setting,
    user_timezone,
    write_file,
)
from core.lists.query import ListState, condition_problem, list_setting, saved_views, state_from_request
from core.lists.registry import UnknownListPage, addon_package, find_list_page
from core.models import User

EXPORT_CHUNK_JOB = "core.export_chunk"
#: The progress page's path (route ``core.exports.show``), for links made without a request.
EXPORT_PATH = "/exports/{id}"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: Why a run failed (``ExportRun.error``), as the user reads it.
FAILURES = {
    "inactive": _("The account that asked for the export is no longer active."),
    "permission": _("You may no longer export this list."),
    "unavailable": _("This list is no longer available, or its columns or filters changed. Export it again."),
    "stopped": _("The export stopped because of an error. Try again, or tell an administrator."),
}


class UnknownExportFormat(KehuError):
    message = _("Export as CSV or XLSX.")


class ExportFiltersInvalid(KehuError):
    message = _("The list's filters could not be read: ${problems}")


class ExportTooLarge(KehuError):
    message = _("The list has ${count} rows; at most ${limit} can be exported at once. Narrow it with filters first.")


# -- the request ---------------------------------------------------------------------------------

def export_response(request: Request, page: ListPage) -> Response:
    """The list page's export (``<key>.export``): the file at once, or a 303 to the progress
    page of a background export. The query string is the list's own plus ``format``."""
    if not page.export:
        raise HTTPNotFound()
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        raise UnknownExportFormat()
    ctx = request.ctx
    ctx.access.require(f"{page.access_key}:export")
    state = state_from_request(request, page, list_setting(ctx.dbsession, ctx.user.id, page.key),
                               saved_views(ctx.dbsession, ctx.user.id, page.key))
    translate = request.localizer.translate
    if state.errors:
        raise ExportFiltersInvalid(problems="; ".join(f"{_label(page, field, translate)}: {translate(problem)}"
                                                      for field, problem in state.errors.items()))
    columns = export_columns(page, state)
    header = [translate(column.label) for column in columns]
    title = translate(page.title)
    total = count_rows(ctx, page, state)
    limit = setting(ctx.settings, "kehu.export_max_rows")
    if total > limit:
        raise ExportTooLarge(count=total, limit=limit)
    if total > setting(ctx.settings, "kehu.export_sync_rows"):
        run = start_export(ctx, page, state, fmt, total=total, header=header, title=title,
                           package=addon_package(request.registry, page))
        return HTTPSeeOther(request.route_path("core.exports.show", id=run.id))
    sheet = Sheet.for_user(ctx, page, columns, translate)
    rows = [sheet.row(record) for record in ordered_rows(ctx, page, state)]
    body = write_file(fmt, header, rows, title)
    write_audit(ctx, "export", model=page.model.__tablename__, detail=audit_detail(page, state, len(rows), fmt))
    name = file_name(title, fmt, ctx.now, sheet.tz)
    return file_response(body, FORMATS[fmt], name)


def _label(page: ListPage, field: str, translate: Callable[[Any], str]) -> str:
    try:
        return translate(page.filter(field).label)
    except KeyError:
        return field


# -- the background export -----------------------------------------------------------------------

def chunk_key(run_id: int, seq: int) -> str:
    """The dedupe key of a run's ``seq``-th chunk job (also how the progress page finds it)."""
    return f"{EXPORT_CHUNK_JOB}:{run_id}:{seq}"


def start_export(ctx: Any, page: ListPage, state: ListState, fmt: str, *, total: int, header: list[str],
                 title: str, package: str) -> ExportRun:
    """Queue a background export of the list as ``ctx.user`` sees it now. ``header`` and
    ``title`` are kept translated (a worker knows only the core's translations); ``package``
    is the addon declaring the page (``core.lists.registry``)."""
    ctx.access.require(f"{page.access_key}:export")
    if fmt not in FORMATS:
        raise UnknownExportFormat()
    columns = export_columns(page, state)
    params = {**state.params(), "fields": [c.field for c in columns], "header": list(header), "title": title,
              "package": package}
    run = ExportRun(user_id=ctx.user.id, list_key=page.key, format=fmt, params=params, state=QUEUED, total=total,
                    done=0, cursor={"after": None, "seq": 0}, error="", created_at=ctx.now)
    ctx.dbsession.add(run)
    ctx.dbsession.flush()
    enqueue(ctx, EXPORT_CHUNK_JOB, {"export_id": run.id}, dedupe_key=chunk_key(run.id, 0))
    return run


def run_export_chunk(ctx: Any, payload: dict[str, Any]) -> None:
    """Job ``core.export_chunk``: one slice of an export, and the file after the last one."""
    session = ctx.dbsession
    run = session.get(ExportRun, int(payload["export_id"]))
    if run is None or run.state not in (QUEUED, RUNNING):
        return
    user = session.get(User, run.user_id)
    if user is None or not user.active:
        fail_export(ctx, run, "inactive")
        return
    ctx = dataclasses.replace(ctx.as_user(user), locale=user.locale)
    try:
        page = with_custom_fields(ctx, find_list_page(run.params["package"], run.list_key))
        columns = [page.column(field) for field in run.params["fields"]]
    except (UnknownListPage, KeyError):
        fail_export(ctx, run, "unavailable")
        return
    if page.addon not in ctx.hooks.installed:  # uninstalled meanwhile: its pages answer no more
        fail_export(ctx, run, "unavailable")
        return
    if not (ctx.access.can(f"{page.access_key}:export") and ctx.access.can(f"{page.access_key}:read")):
        fail_export(ctx, run, "permission")
        return
    state = ListState.from_params(page, run.params)
    if any(condition_problem(page, condition) is not None for condition in state.conditions):
        fail_export(ctx, run, "unavailable")
        return
    sheet = Sheet.for_user(ctx, page, columns, _worker_translate(user, run.params["package"]))
    size = setting(ctx.settings, "kehu.export_chunk_rows")
    after, seq = run.cursor["after"], run.cursor["seq"]
    newest_first = state.sort == "-id"
    query = export_select(ctx, page, state)
    if after is not None:
        query = query.where(page.model.id < after if newest_first else page.model.id > after)
    order = page.model.id.desc() if newest_first else page.model.id.asc()
    records = list(session.scalars(query.order_by(order).limit(size)).unique())
    rows = [sheet.row(record) for record in records]
    if len(records) < size:
        finish_export(ctx, run, page, state, rows)
        return
    session.add(ExportChunk(export_id=run.id, seq=seq, rows=rows))
    run.done += len(rows)
    run.cursor = {"after": records[-1].id, "seq": seq + 1}
    run.state = RUNNING
    enqueue(ctx, EXPORT_CHUNK_JOB, {"export_id": run.id}, dedupe_key=chunk_key(run.id, seq + 1))


def finish_export(ctx: Any, run: ExportRun, page: ListPage, state: ListState, last_rows: list[list[Any]]) -> StoredFile:
    """The file from the stored chunks and the last slice, in order; then the chunks go and the
    user is told where to download it. The file is written before anything else is: on SQLite
    the transaction takes the database's write lock only for the short writes at the end."""
    from core.notifications.services import notify

    session = ctx.dbsession
    earlier = session.scalars(select(ExportChunk.rows).where(ExportChunk.export_id == run.id)
                              .order_by(ExportChunk.seq))
    rows = itertools.chain(itertools.chain.from_iterable(earlier), last_rows)
    title = run.params["title"]
    body = write_file(run.format, run.params["header"], rows, title)
    keep = dt.timedelta(days=setting(ctx.settings, "kehu.export_keep_days"))
    name = file_name(title, run.format, ctx.now, user_timezone(ctx.user))
    stored = store_file(ctx, run.user_id, name, FORMATS[run.format], body, "export", keep=keep)
    session.execute(delete(ExportChunk).where(ExportChunk.export_id == run.id))
    run.done += len(last_rows)
    run.state, run.file_id, run.finished_at = DONE, stored.id, ctx.now
    write_audit(ctx, "export", model=page.model.__tablename__,
                detail=audit_detail(page, state, run.done, run.format) + f" (background export {run.id})")
    until = stored.expires_at.astimezone(user_timezone(ctx.user)).strftime("%Y-%m-%d %H:%M")
    notify(ctx, [ctx.user], "core.export_ready", run, url=stored.download_path(),
           message=_("${title}: ${count} rows (${format}), ready to download until ${until}.",
                     mapping={"title": title, "count": run.done, "format": run.format.upper(), "until": until}))
    return stored


def fail_export(ctx: Any, run: ExportRun, reason: str) -> None:
    """End the run with ``reason`` (a key of ``FAILURES``), drop its chunks and tell its user."""
    from core.notifications.services import notify

    ctx.dbsession.execute(delete(ExportChunk).where(ExportChunk.export_id == run.id))
    run.state, run.error, run.finished_at = FAILED, reason, ctx.now
    user = ctx.dbsession.get(User, run.user_id)
    if user is not None and user.active:
        notify(ctx, [user], "core.job_failed", run, FAILURES[reason], title=_("Your export could not be finished"),
               url=EXPORT_PATH.format(id=run.id))


def _worker_translate(user: User, package: str) -> Callable[[Any], str]:
    """The user's language with the core's and the page's addon's translations (``i18n/``)."""
    dirs = [CORE_TRANSLATION_DIR]
    try:
        addon_dir = Path(importlib.import_module(package).__file__ or "").parent / "i18n"
    except ImportError:
        addon_dir = None
    if addon_dir is not None and addon_dir.is_dir():
        dirs.append(str(addon_dir))
    return localizer_for(user.locale, tuple(dirs)).translate


# -- the progress page ---------------------------------------------------------------------------

@dataclasses.dataclass
class Progress:
    """How a background export is doing, as its user sees it: ``state`` is the run's, or
    ``failed`` when its next chunk job died (its attempts used up) or was cancelled."""

    run: ExportRun
    state: str
    percent: int
    error: Any = None
    file: StoredFile | None = None

    @property
    def running(self) -> bool:
        return self.state in (QUEUED, RUNNING)


def own_export(ctx: Any, run_id: int) -> ExportRun:
    """The caller's own export run; RecordNotFound (404) for anyone else's."""
    from core.access.exceptions import RecordNotFound

    run = ctx.dbsession.get(ExportRun, run_id)
    if run is None or ctx.user is None or run.user_id != ctx.user.id:
        raise RecordNotFound()
    return run


def export_progress(ctx: Any, run_id: int) -> Progress:
    run = own_export(ctx, run_id)
    percent = 100 if run.state == DONE else min(99, run.done * 100 // run.total) if run.total else 0
    if run.state == FAILED:
        return Progress(run, FAILED, percent, FAILURES.get(run.error, FAILURES["stopped"]))
    if run.state == DONE:
        stored = ctx.dbsession.scalar(select(StoredFile).where(StoredFile.id == run.file_id,
                                                               StoredFile.expires_at > ctx.now))
        return Progress(run, DONE, 100, file=stored)
    if _stalled(ctx, run):
        return Progress(run, FAILED, percent, FAILURES["stopped"])
    return Progress(run, run.state, percent)


def _stalled(ctx: Any, run: ExportRun) -> bool:
    """Whether the run's next chunk job is gone, or ended without running (dead, cancelled)."""
    from core.jobs.models import CANCELLED, DEAD, Job

    key = chunk_key(run.id, (run.cursor or {}).get("seq", 0))
    state = ctx.dbsession.scalar(select(Job.state).where(Job.dedupe_key == key))
    return state is None or state in (DEAD, CANCELLED)


def fail_stalled_exports(ctx: Any) -> int:
    """Mark failed the unfinished runs whose chunk job died (for the nightly sweep, which then
    drops their chunks); returns how many. Their users already saw "failed" on the progress page."""
    stalled = [run for run in ctx.dbsession.scalars(select(ExportRun).where(ExportRun.state.in_((QUEUED, RUNNING))))
               if _stalled(ctx, run)]
    for run in stalled:
        run.state, run.error, run.finished_at = FAILED, "stopped", ctx.now
    ctx.dbsession.flush()
    return len(stalled)
