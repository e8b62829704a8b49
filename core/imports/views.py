"""The import pages, shared by every declared import:

- ``/imports/new/{key}``: upload a CSV or XLSX file (size, row and encoding checks at once);
- ``/imports/new/{key}/template.xlsx``: the template, its header the fields' labels;
- ``/imports/{id}/mapping``: which column goes to which field (suggested, remembered);
- ``/imports/{id}/preview``: the first rows with their problems; create only or update by a
  key; Start queues the run;
- ``/imports/{id}``: progress (the ``/progress`` fragment, polled by htmx) and the report;
- ``/imports/{id}/errors.csv`` (or ``.xlsx``): the rows that did not go in, with the reason.

An import is its uploader's own: for anyone else every page is a 404. An import whose addon is
not installed is a 404 too. Every POST carries the CSRF token.
"""

from __future__ import annotations

import io
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationString
from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request
from pyramid.response import Response

from core.access.exceptions import PermissionDenied
from core.exceptions import KehuError
from core.exports import csv_bytes, safe_cell
from core.files import file_response
from core.i18n import _
from core.imports.declaration import ImportSpec
from core.imports.exceptions import (
    FileRefused,
    KeyFieldInvalid,
    KeyFieldNeeded,
    NoFileChosen,
    UpdateNotOffered,
)
from core.imports.mapping import check_mapping, remembered_mapping, suggest_mapping
from core.imports.models import ImportRun
from core.imports.reading import GB18030, limits, size_text
from core.imports.registry import import_specs
from core.imports.services import (
    CREATE,
    DONE,
    FAILED,
    STATE_TITLES,
    UPLOADED,
    chosen_mapping,
    column_names,
    create_import,
    errors_table,
    get_import,
    import_rows,
    key_field_choices,
    mapped_columns,
    preview_rows,
    recent_imports,
    require_importer,
    row_errors,
    save_mapping,
    stalled_job,
    start_import,
)

SAMPLE_ROWS = 3
#: The report lists this many errors; the file has them all.
REPORT_ERRORS = 10
#: Seconds between two looks of the progress bar.
POLL_SECONDS = 1


def _signed_in(request: Request) -> None:
    if request.user is None:
        raise HTTPForbidden()  # the forbidden view sends anonymous visitors to /login?next=…


def _spec(request: Request, key: str) -> ImportSpec:
    """The declared import, if its addon is installed (with this moment's extra fields); else 404."""
    spec = import_specs(request.registry).get(key)
    if spec is None or not request.addons.is_installed(spec.addon):
        raise HTTPNotFound()
    return spec.for_ctx(request.ctx)


def _import(request: Request) -> tuple[ImportRun, ImportSpec]:
    _signed_in(request)
    run = get_import(request.ctx, int(request.matchdict["id"]))
    return run, _spec(request, run.import_key)


def _route_path(request: Request, name: str | None) -> str | None:
    """The path of route ``name``, or None when no such route is configured."""
    if name is None or request.registry.getUtility(IRoutesMapper).get_route(name) is None:
        return None
    return request.route_path(name)


def _common(request: Request, spec: ImportSpec, run: ImportRun | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "spec": spec,
        "run": run,
        "list_url": _route_path(request, spec.list_route),
        "state_titles": STATE_TITLES,
        "page_title": _("Import: ${title}", mapping={"title": request.localizer.translate(spec.title)}),
        **extra,
    }


# -- upload ------------------------------------------------------------------------------------

def new_import(request: Request) -> dict[str, Any] | HTTPSeeOther:
    _signed_in(request)
    spec = _spec(request, request.matchdict["key"])
    require_importer(request.ctx, spec)
    max_bytes, max_rows = limits(request.registry.settings)
    error = None
    if request.method == "POST":
        upload = request.POST.get("file")
        try:
            if not hasattr(upload, "file") or not getattr(upload, "filename", ""):
                raise NoFileChosen()
            data = upload.file.read(max_bytes + 1)
            run = create_import(request.ctx, spec, upload.filename, data)
        except FileRefused as exc:
            error = exc.translation_string
            request.response.status = 400
        else:
            return HTTPSeeOther(request.route_path("core.imports.mapping", id=run.id))
    return _common(request, spec, error=error, max_size=size_text(max_bytes), max_rows=f"{max_rows:,}",
                   recent=recent_imports(request.ctx, spec.key))


# -- mapping -----------------------------------------------------------------------------------

def mapping_page(request: Request) -> dict[str, Any] | HTTPSeeOther:
    run, spec = _import(request)
    if run.state != UPLOADED:
        return HTTPSeeOther(request.route_path("core.imports.show", id=run.id))
    samples = import_rows(request.ctx, run, 0, SAMPLE_ROWS)
    column_errors: dict[int, Any] = {}
    missing: list[Any] = []
    if request.method == "POST":
        chosen = {index: request.POST.get(f"col-{index}", "") for index in range(len(run.headers))}
        chosen = {index: field for index, field in chosen.items() if field}
        column_errors, missing = check_mapping(spec, chosen)
        if not column_errors and not missing:
            save_mapping(request.ctx, spec, run, chosen)
            return HTTPSeeOther(request.route_path("core.imports.preview", id=run.id))
        request.response.status = 400
    elif run.mapping:
        chosen = chosen_mapping(run)
    else:
        chosen = suggest_mapping(spec, run.headers, remembered_mapping(request.ctx, spec.key),
                                 [request.localizer.translate])
    columns = [(index, header, [row[index] for row in samples if index < len(row) and row[index].strip()])
               for index, header in enumerate(run.headers)]
    return _common(request, spec, run, columns=columns, chosen=chosen, column_errors=column_errors,
                   missing=missing, read_as_gbk=run.encoding == GB18030)


# -- preview and start -------------------------------------------------------------------------

#: Where a refusal of ``start_import`` is shown on the preview form.
_START_ERRORS = {PermissionDenied: "mode", UpdateNotOffered: "mode", KeyFieldNeeded: "key_field",
                 KeyFieldInvalid: "key_field"}


def preview_page(request: Request) -> dict[str, Any] | HTTPSeeOther:
    run, spec = _import(request)
    if run.state != UPLOADED:
        return HTTPSeeOther(request.route_path("core.imports.show", id=run.id))
    if not run.mapping:
        return HTTPSeeOther(request.route_path("core.imports.mapping", id=run.id))
    keys = key_field_choices(spec, run)
    mode = request.POST.get("mode", CREATE) if request.method == "POST" else CREATE
    key_field = request.POST.get("key_field", "") if request.method == "POST" else ""
    errors: dict[str, Any] = {}
    if request.method == "POST":
        try:
            with request.dbsession.begin_nested():
                start_import(request.ctx, spec, run, mode=mode, key_field=key_field)
        except KehuError as exc:
            field = _START_ERRORS.get(type(exc))
            if field is None:
                raise
            errors[field] = exc.translation_string
            request.response.status = 400
        else:
            return HTTPSeeOther(request.route_path("core.imports.show", id=run.id))
    rows = preview_rows(request.ctx, spec, run)
    columns = [(index, field) for index, field in mapped_columns(run) if field in spec.field_names]
    return _common(request, spec, run, rows=rows, columns=columns, names=column_names(spec, run),
                   keys=keys, mode=mode,
                   key_field=key_field, errors=errors, can_update=spec.update is not None,
                   invalid=sum(1 for _number, row in rows if row.problems))


# -- progress and report -----------------------------------------------------------------------

def _report(request: Request, run: ImportRun, spec: ImportSpec) -> dict[str, Any]:
    finished = run.state in (DONE, FAILED)
    return _common(
        request, spec, run,
        finished=finished,
        percent=100 if run.state == DONE else (100 * run.processed // run.total_rows if run.total_rows else 0),
        stalled=stalled_job(request.ctx, run),
        errors=list(row_errors(request.ctx, run, REPORT_ERRORS)) if finished else [],
        poll_seconds=POLL_SECONDS,
    )


def show_import(request: Request) -> dict[str, Any] | HTTPSeeOther:
    run, spec = _import(request)
    if run.state == UPLOADED:
        step = "core.imports.preview" if run.mapping else "core.imports.mapping"
        return HTTPSeeOther(request.route_path(step, id=run.id))
    return _report(request, run, spec)


def progress(request: Request) -> dict[str, Any] | Response:
    if request.user is None:  # the session ended: keep the bar as it is, no sign-in page inside it
        return Response(status=204)
    run, spec = _import(request)
    return _report(request, run, spec)


def errors_file(request: Request) -> Response:
    run, _unused = _import(request)
    header, rows = errors_table(request.ctx, run)
    translate = request.localizer.translate
    header_text = [translate(cell) if isinstance(cell, TranslationString) else cell for cell in header]
    stem = run.filename.rsplit(".", 1)[0] or "import"
    if request.matchdict["format"] == "xlsx":
        body = _xlsx_bytes(header_text, rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = csv_bytes(header_text, rows)
        content_type = "text/csv; charset=utf-8"
    name = translate(_("${name} - errors", mapping={"name": stem})) + "." + request.matchdict["format"]
    return file_response(body, content_type, name)


def template_file(request: Request) -> Response:
    """导入模板: a workbook whose header row is every field's label in the reader's language
    (what the mapping recognises by itself), required ones in bold, and the example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _signed_in(request)
    spec = _spec(request, request.matchdict["key"])
    require_importer(request.ctx, spec)
    translate = request.localizer.translate
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = translate(spec.title)[:31]
    sheet.append([translate(field.label) for field in spec.fields])
    for cell, field in zip(sheet[1], spec.fields, strict=True):
        cell.font = Font(bold=field.required)
        sheet.column_dimensions[cell.column_letter].width = max(12, 2 * len(str(cell.value)) + 2)
    if spec.example:
        sheet.append([safe_cell(spec.example.get(field.name, "")) for field in spec.fields])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    name = translate(_("${title} - import template", mapping={"title": translate(spec.title)})) + ".xlsx"
    return file_response(buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name)


def _xlsx_bytes(header: list[str], rows: Any) -> bytes:
    """A one-sheet workbook; every cell is text made formula-safe, as in the CSV."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([safe_cell(cell) for cell in header])
    for row in rows:
        sheet.append([row[0], *(safe_cell(cell) for cell in row[1:])])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def includeme(config: Configurator) -> None:
    run = r"/imports/{id:\d{1,9}}"
    config.add_route("core.imports.new", r"/imports/new/{key:[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*}")
    config.add_route("core.imports.template", r"/imports/new/{key:[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*}/template.xlsx")
    config.add_route("core.imports.mapping", run + "/mapping")
    config.add_route("core.imports.preview", run + "/preview")
    config.add_route("core.imports.progress", run + "/progress")
    config.add_route("core.imports.errors", run + "/errors.{format:csv|xlsx}")
    config.add_route("core.imports.show", run)
    templates = "core/imports/"
    config.add_view(new_import, route_name="core.imports.new", renderer=templates + "new.jinja2",
                    request_method=("GET", "POST"))
    config.add_view(mapping_page, route_name="core.imports.mapping", renderer=templates + "mapping.jinja2",
                    request_method=("GET", "POST"))
    config.add_view(preview_page, route_name="core.imports.preview", renderer=templates + "preview.jinja2",
                    request_method=("GET", "POST"))
    config.add_view(show_import, route_name="core.imports.show", renderer=templates + "show.jinja2",
                    request_method="GET")
    config.add_view(progress, route_name="core.imports.progress", renderer=templates + "report.jinja2",
                    request_method="GET")
    config.add_view(errors_file, route_name="core.imports.errors", request_method="GET")
    config.add_view(template_file, route_name="core.imports.template", request_method="GET")
