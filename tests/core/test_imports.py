"""Imports (issue 5 part 6) on the fixture addon ``scoped``'s notes, on SQLite and PostgreSQL:
upload → mapping (remembered per user) → preview with per-row errors → run as batch jobs →
report and errors file. GBK and garbage encodings, size/row limits and .xls are refused or
accepted with a clear word; each batch is all or nothing; imports are their uploader's own."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import re

import pytest
from markupsafe import escape
from openpyxl import Workbook, load_workbook
from pydantic import BaseModel, ConfigDict
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError
from sqlalchemy import func, select, update

from core.i18n import _, localizer_for
from core.imports import exceptions as errors
from core.imports.declaration import ImportField, ImportSpec, spec_reference
from core.imports.jobs import IMPORT_BATCH_JOB, run_import_batch
from core.imports.mapping import check_mapping, normalise_header, suggest_mapping
from core.imports.models import ImportMapping, ImportRowError, ImportRun
from core.imports.reading import cell_text, decode_text, read_upload, sniff_delimiter
from core.imports.services import create_import, save_mapping, start_import
from core.jobs import worker
from core.jobs.models import Job
from core.models import AuditEntry, User, UserRole
from core.notifications.models import Notification
from core.org.services import root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped import imports as notes_imports
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.models import ScopedNote

FIXTURES = "tests.fixtures.addons."
NEW = "/imports/new/scoped.notes"
ZHANG = ("zhangsan", "Spring-Tea-77")
LISI = ("lisi", "Autumn-Rain-88")
zh = localizer_for("zh_CN").translate


def says(page, message) -> bool:
    """The page shows ``message`` in Chinese (as Jinja escapes it)."""
    return str(escape(zh(message))) in page.text


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURES + "scoped")


@dataclasses.dataclass
class World:
    app: object
    env: object
    catalog: object
    ids: dict

    def run_jobs(self, **settings):
        """Run every due job, as ``kehu worker --once`` would."""
        return worker.Worker(self.env.engine, self.catalog, {**self.env.settings, **settings}).run(until_idle=True)

    def one(self, query):
        with self.env.ctx() as ctx:
            return ctx.dbsession.scalar(query)

    def all(self, query):
        with self.env.ctx() as ctx:
            return list(ctx.dbsession.scalars(query))

    def run(self, import_id) -> ImportRun:
        with self.env.ctx() as ctx:
            return ctx.dbsession.get(ImportRun, import_id)


@pytest.fixture
def world(make_kehu_app, catalog, cli_env):
    """``scoped`` installed; salespeople zhangsan and lisi (own scope), a note of each."""

    def build(**settings):
        app = make_kehu_app(catalog=catalog, install=["scoped"], **settings)
        env = cli_env(catalog)
        with env.ctx() as ctx:
            company = root_department(ctx).id
            zhang = create_user(ctx, *ZHANG, roles=["sales"], department_id=company)
            lisi = create_user(ctx, *LISI, roles=["sales"], department_id=company)
            create_user(ctx, "zhaoliu", "Summer-Wind-55", roles=["auditor"], department_id=company)
            mine = services.create_note(ctx, "张三的客户", owner_id=zhang.id, mobile="13812345678")
            theirs = services.create_note(ctx, "李四的客户", owner_id=lisi.id, mobile="13900001111")
            ids = {"zhang": zhang.id, "lisi": lisi.id, "mine": mine.id, "theirs": theirs.id}
        return World(app, env, catalog, ids)

    return build


def csv_data(rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_data(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(app, data, filename="notes.csv", status=303):
    response = app.post(NEW, {"csrf_token": app.csrf_token()}, upload_files=[("file", filename, data)],
                        status=status)
    if status == 303:
        return int(re.search(r"/imports/(\d+)/mapping$", response.location).group(1))
    return response


def selected(page) -> dict[int, str]:
    """``{column index: field}`` as the mapping page's selects show it."""
    chosen = {}
    for match in re.finditer(r'<select[^>]*name="col-(\d+)".*?</select>', page.text, re.S):
        option = re.search(r'<option value="([^"]*)" selected>', match.group(0))
        if option:
            chosen[int(match.group(1))] = option.group(1)
    return chosen


def map_columns(app, import_id, mapping, status=303):
    data = {f"col-{index}": field for index, field in mapping.items()}
    return app.post_form(f"/imports/{import_id}/mapping", data, status=status)


def start(app, import_id, mode="create", key_field="", status=303):
    return app.post_form(f"/imports/{import_id}/preview", {"mode": mode, "key_field": key_field}, status=status)


def titles(world):
    return sorted(world.all(select(ScopedNote.title)))


# -- upload, mapping, preview ----------------------------------------------------------------------

def test_the_template_has_the_labels_and_maps_itself_back(world):
    """导入模板: the header is the labels in the reader's language, required ones bold, the
    example row below; uploaded back, every column maps without asking."""
    w = world()
    w.app.login(*ZHANG)
    response = w.app.get(NEW + "/template.xlsx")
    assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.body)).active
    header = [cell.value for cell in sheet[1]]
    translate = localizer_for("zh_CN").translate
    assert header == [translate(_("Title")), translate(_("Mobile")), translate(_("Email"))]
    assert [cell.font.bold for cell in sheet[1]] == [True, False, False]
    assert [cell.value for cell in sheet[2]] == ["新客户", "13800000001", "a@example.com"]
    import_id = upload(w.app, response.body, filename="template.xlsx")
    assert selected(w.app.get(f"/imports/{import_id}/mapping")) == {0: "title", 1: "mobile", 2: "email"}



def test_upload_mapping_preview_shows_each_rows_errors(world):
    w = world()
    w.app.login(*ZHANG)
    data = csv_data([["标题", "手机", "邮箱", "备注"],
                     ["新客户甲", "13800000001", "a@example.com", "x"],
                     ["", "13800000002", "", ""],
                     ["新客户丙", "12345", "not-an-address", ""],
                     ["t" * 101, "", "", ""]])
    import_id = upload(w.app, data)
    page = w.app.get(f"/imports/{import_id}/mapping")
    assert selected(page) == {0: "title", 1: "mobile", 2: "email"}  # aliases; 备注 is nobody's
    assert "import-encoding-notice" not in page.text
    assert "新客户甲" in page.text  # sample values beside each column
    response = map_columns(w.app, import_id, {0: "title", 1: "mobile", 2: "email"})
    assert response.location.endswith(f"/imports/{import_id}/preview")

    preview = w.app.get(f"/imports/{import_id}/preview")
    assert re.findall(r'data-row="(\d+)" data-valid="(\w+)"', preview.text) == [
        ("2", "true"), ("3", "false"), ("4", "false"), ("5", "false")]
    assert 'data-invalid="3"' in preview.text
    assert says(preview, _("is required"))
    assert says(preview, _("has more than ${count} characters", mapping={"count": 100}))
    assert "is not a mobile number" in preview.text and "is not an e-mail address" in preview.text
    assert preview.text.count("table-danger") == 4  # the bad cells: title, title, mobile, e-mail
    assert w.one(select(func.count()).select_from(ScopedNote)) == 2  # the preview writes nothing
    assert w.run(import_id).state == "uploaded"


def test_mapping_refuses_a_missing_required_field_and_a_field_twice(world):
    w = world()
    w.app.login(*ZHANG)
    import_id = upload(w.app, csv_data([["A", "B", "C"], ["x", "13800000001", "13800000002"]]))
    assert selected(w.app.get(f"/imports/{import_id}/mapping")) == {}
    page = map_columns(w.app, import_id, {1: "mobile"}, status=400)
    assert says(page, _("Map a column to “${field}”: it is required.", mapping={"field": _("Title")}))
    page = map_columns(w.app, import_id, {0: "title", 1: "mobile", 2: "mobile"}, status=400)
    assert 'id="col-1-error"' in page.text and 'id="col-2-error"' in page.text
    assert says(page, _("“${field}” is chosen for more than one column.", mapping={"field": _("Mobile")}))
    assert selected(page) == {0: "title", 1: "mobile", 2: "mobile"}  # the choices stay on the page
    assert w.run(import_id).mapping == {}
    assert w.app.get(f"/imports/{import_id}/preview", status=303).location.endswith("/mapping")


def test_the_mapping_is_remembered_for_the_same_user_only(world):
    w = world()
    data = csv_data([["客户", "电话号码", "其他"], ["甲", "13800000001", "z"]])
    w.app.login(*ZHANG)
    first = upload(w.app, data)
    assert selected(w.app.get(f"/imports/{first}/mapping")) == {}
    map_columns(w.app, first, {0: "title", 1: "mobile"})
    second = upload(w.app, data)
    assert selected(w.app.get(f"/imports/{second}/mapping")) == {0: "title", 1: "mobile"}
    remembered = w.one(select(ImportMapping).where(ImportMapping.user_id == w.ids["zhang"]))
    assert remembered.mapping == {"客户": "title", "电话号码": "mobile", "其他": ""}

    w.app.reset()
    w.app.login(*LISI)
    theirs = upload(w.app, data)
    assert selected(w.app.get(f"/imports/{theirs}/mapping")) == {}


def test_a_gbk_file_is_read_and_the_user_told(world):
    w = world()
    w.app.login(*ZHANG)
    import_id = upload(w.app, csv_data([["标题", "手机"], ["张三的新客户", "13800000001"]], encoding="gbk"))
    page = w.app.get(f"/imports/{import_id}/mapping")
    assert 'id="import-encoding-notice" data-encoding="gb18030"' in page.text
    assert says(page, _("The file is not UTF-8: it was read as GBK (GB18030). If the sample values below look "
                        "garbled, save the file as “CSV UTF-8” and upload it again."))
    assert "张三的新客户" in page.text
    assert selected(page) == {0: "title", 1: "mobile"}  # the Chinese headers were read right


def test_a_file_in_an_unknown_encoding_is_refused_clearly(world):
    w = world()
    w.app.login(*ZHANG)
    garbage = b"title,mobile\r\nabc\x81\x20\xff\xfe,1\r\n"
    page = upload(w.app, garbage, status=400)
    assert says(page, errors.UnknownEncoding().translation_string)
    assert 'id="import-file-error"' in page.text
    assert w.one(select(func.count()).select_from(ImportRun)) == 0


def test_size_and_row_limits_name_the_limit(world):
    w = world(**{"kehu.import_max_bytes": "16384", "kehu.import_max_rows": "5"})
    w.app.login(*ZHANG)
    page = upload(w.app, csv_data([["标题"]] + [["x" * 100] for _row in range(170)]), status=400)
    assert says(page, errors.FileTooLarge(limit="16 KB").translation_string)
    page = upload(w.app, csv_data([["标题"]] + [[f"n{i}"] for i in range(6)]), status=400)
    assert says(page, errors.TooManyRows(limit="5").translation_string)
    assert upload(w.app, csv_data([["标题"]] + [[f"n{i}"] for i in range(5)]))  # at the limit: fine
    page = upload(w.app, xlsx_data([["标题"]] + [[f"n{i}"] for i in range(6)]), filename="n.xlsx", status=400)
    assert says(page, errors.TooManyRows(limit="5").translation_string)


def test_xls_empty_and_other_files_are_refused_with_what_to_do(world):
    w = world()
    w.app.login(*ZHANG)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert says(upload(w.app, ole, filename="客户.xls", status=400), errors.OldExcelFormat().translation_string)
    assert says(upload(w.app, b"PK\x03\x04broken", filename="a.xlsx", status=400),
                errors.UnreadableWorkbook().translation_string)
    assert says(upload(w.app, b"%PDF-1.4", filename="a.pdf", status=400), errors.UnsupportedFile().translation_string)
    assert says(upload(w.app, b"", status=400), errors.EmptyFile().translation_string)
    assert says(upload(w.app, csv_data([["标题", "手机"]]), status=400), errors.NoDataRows().translation_string)
    page = w.app.post(NEW, {"csrf_token": w.app.csrf_token()}, status=400)
    assert says(page, errors.NoFileChosen().translation_string)


def test_an_xlsx_upload_keeps_numbers_and_dates_as_people_read_them(world):
    w = world()
    w.app.login(*ZHANG)
    data = xlsx_data([["标题", "手机", "生日"], ["表格客户", 13812345678, dt.datetime(2024, 5, 31)],
                      [None, None, None], ["第二行", 1.5, None], [None, None, None]])
    import_id = upload(w.app, data, filename="客户.xlsx")
    run = w.run(import_id)
    assert (run.encoding, run.total_rows, run.headers) == ("xlsx", 3, ["标题", "手机", "生日"])
    page = w.app.get(f"/imports/{import_id}/mapping")
    assert "13812345678" in page.text and "2024-05-31" in page.text and "13812345678.0" not in page.text


# -- the run ----------------------------------------------------------------------------------------

def test_the_run_reports_counts_and_a_formula_safe_errors_file(world):
    w = world()
    w.app.login(*ZHANG)
    data = csv_data([["标题", "手机", "邮箱"],
                     ["新客户一", "13800000001", "one@example.com"],
                     ["新客户二", "=cmd|' /C calc'!A0", ""],
                     ["", "", ""],
                     ["新客户三", "", ""],
                     ["", "13800000004", ""],
                     ["新客户四", "", "four@example.com"]])
    import_id = upload(w.app, data)
    map_columns(w.app, import_id, {0: "title", 1: "mobile", 2: "email"})
    assert start(w.app, import_id).location.endswith(f"/imports/{import_id}")
    page = w.app.get(f"/imports/{import_id}")
    assert 'data-state="queued"' in page.text and 'hx-trigger="every' in page.text
    assert start(w.app, import_id).location.endswith(f"/imports/{import_id}")  # twice: still one run
    assert w.one(select(func.count()).select_from(Job).where(Job.name == IMPORT_BATCH_JOB)) == 1

    w.run_jobs(**{"kehu.import_batch_size": "2"})
    run = w.run(import_id)
    assert (run.state, run.processed, run.total_rows) == ("done", 6, 6)
    assert (run.created_count, run.updated_count, run.skipped_count, run.error_count) == (3, 0, 1, 2)
    assert w.one(select(func.count()).select_from(Job).where(Job.name == IMPORT_BATCH_JOB)) == 3
    created = w.all(select(ScopedNote).where(ScopedNote.title.like("新客户%")).order_by(ScopedNote.id))
    assert [note.title for note in created] == ["新客户一", "新客户三", "新客户四"]
    assert {note.owner_id for note in created} == {w.ids["zhang"]}
    assert {note.created_by for note in created} == {w.ids["zhang"]}

    report = w.app.get(f"/imports/{import_id}/progress")
    assert 'data-state="done"' in report.text and "hx-trigger" not in report.text
    assert 'id="import-created" data-count="3"' in report.text and 'id="import-errors" data-count="2"' in report.text
    assert f"/imports/{import_id}/errors.csv" in report.text

    response = w.app.get(f"/imports/{import_id}/errors.csv")
    assert response.content_type == "text/csv"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.body.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert rows[0] == [zh(_("Row")), zh(_("Reason")), "标题", "手机", "邮箱"]
    assert [row[0] for row in rows[1:]] == ["3", "6"]
    mobile_problem = {"field": "手机", "problem": "is not a mobile number (11 digits)"}  # the addon's own words
    assert rows[1][1] == zh(_("${field}: ${problem}", mapping=mobile_problem))
    assert rows[1][3] == "'=cmd|' /C calc'!A0"  # formula-safe
    assert rows[2][1] == zh(_("${field}: ${problem}", mapping={"field": "标题", "problem": zh(_("is required"))}))
    workbook = load_workbook(io.BytesIO(w.app.get(f"/imports/{import_id}/errors.xlsx").body), read_only=True)
    sheet_rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in sheet_rows[1:]] == [3, 6] and sheet_rows[1][3] == "'=cmd|' /C calc'!A0"

    notice = w.one(select(Notification).where(Notification.user_id == w.ids["zhang"]))
    assert (notice.kind, notice.url) == ("core.import_finished", f"/imports/{import_id}")
    audit = w.one(select(AuditEntry).where(AuditEntry.action == "import"))
    assert (audit.model, audit.user_id) == ("scoped_note", w.ids["zhang"])
    assert '"created": 3' in audit.detail
    assert w.one(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "create", AuditEntry.model == "scoped_note", AuditEntry.user_id == w.ids["zhang"])) == 3


def test_update_by_key_updates_in_scope_and_creates_the_rest(world):
    w = world()
    w.app.login(*ZHANG)
    data = csv_data([["标题", "手机", "邮箱"],
                     ["张三的客户", "13800000009", ""],     # mine: updated (mobile only, e-mail kept)
                     ["李四的客户", "13800000008", ""],     # lisi's: outside my write scope → a new one of mine
                     ["全新客户", "", "new@example.com"]])   # nobody's: created
    import_id = upload(w.app, data)
    map_columns(w.app, import_id, {0: "title", 1: "mobile", 2: "email"})
    page = start(w.app, import_id, mode="update", key_field="", status=400)
    assert says(page, errors.KeyFieldNeeded().translation_string)
    page = start(w.app, import_id, mode="update", key_field="email", status=400)
    assert says(page, errors.KeyFieldInvalid().translation_string)
    start(w.app, import_id, mode="update", key_field="title")
    w.run_jobs()
    run = w.run(import_id)
    assert (run.created_count, run.updated_count, run.skipped_count, run.error_count) == (2, 1, 0, 0)
    with w.env.ctx() as ctx:
        mine = ctx.dbsession.get(ScopedNote, w.ids["mine"])
        theirs = ctx.dbsession.get(ScopedNote, w.ids["theirs"])
        assert (mine.mobile, mine.email) == ("13800000009", None)
        assert (theirs.mobile, theirs.owner_id) == ("13900001111", w.ids["lisi"])  # untouched
        copies = list(ctx.dbsession.scalars(select(ScopedNote).where(ScopedNote.title == "李四的客户")))
        assert sorted(note.owner_id for note in copies) == sorted([w.ids["lisi"], w.ids["zhang"]])

    again = upload(w.app, csv_data([["标题"], ["张三的客户"], ["又一个客户"]]))
    map_columns(w.app, again, {0: "title"})
    start(w.app, again, mode="create", key_field="title")  # create only: an existing title is skipped
    w.run_jobs()
    run = w.run(again)
    assert (run.created_count, run.updated_count, run.skipped_count) == (1, 0, 1)


def test_a_user_who_may_not_create_or_write_cannot_import(world):
    w = world()
    w.app.login("zhaoliu", "Summer-Wind-55")  # auditor: reads notes only
    w.app.get(NEW, status=403)


# -- all or nothing per batch -------------------------------------------------------------------

FAIL_ON = {"title": None}


def _create_or_fail(ctx, data):
    if data["title"] == FAIL_ON["title"]:
        raise RuntimeError("the database went away")  # not a refusal of the row: the batch must roll back
    return notes_imports.create_note(ctx, data)


#: The notes import (same key, so its pages work) whose create fails unexpectedly on a marked title.
FRAGILE_IMPORT = dataclasses.replace(notes_imports.NOTES_IMPORT, create=_create_or_fail)


def test_each_batch_is_all_or_nothing(world):
    w = world()
    FAIL_ON["title"] = "坏行"
    rows = [["标题"], ["一"], ["二"], ["三"], ["坏行"], ["五"]]
    with w.env.ctx() as ctx:
        user_ctx = ctx.as_user(ctx.dbsession.get(User, w.ids["zhang"]))
        run = create_import(user_ctx, FRAGILE_IMPORT, "fragile.csv", csv_data(rows))
        save_mapping(user_ctx, FRAGILE_IMPORT, run, {0: "title"})
        start_import(user_ctx, FRAGILE_IMPORT, run, mode="create", key_field=None)
        import_id = run.id
    settings = {"kehu.import_batch_size": "2"}
    w.run_jobs(**settings)
    run = w.run(import_id)
    # Batch 1 (一, 二) committed; batch 2 (三, 坏行) failed as a whole: 三 was written, then rolled back.
    assert (run.state, run.processed, run.created_count) == ("running", 2, 2)
    assert titles(w) == sorted(["一", "二", "张三的客户", "李四的客户"])
    assert w.one(select(func.count()).select_from(ImportRowError)) == 0
    job = w.one(select(Job).where(Job.dedupe_key == f"core.import_batch:{import_id}:2"))
    assert (job.state, job.attempts) == ("queued", 1) and "RuntimeError" in job.last_error

    w.app.login(*ZHANG)
    page = w.app.get(f"/imports/{import_id}")
    assert 'data-state="running"' in page.text and "import-stalled" not in page.text
    with w.env.ctx() as ctx:  # its attempts used up, the job is dead: the page says the import stopped
        ctx.dbsession.execute(update(Job).where(Job.id == job.id).values(state="dead"))
    page = w.app.get(f"/imports/{import_id}/progress")
    assert 'id="import-stalled"' in page.text and "hx-trigger" not in page.text

    FAIL_ON["title"] = None  # the cause is fixed; an administrator retries the job
    with w.env.ctx() as ctx:
        ctx.dbsession.execute(update(Job).where(Job.id == job.id).values(state="queued",
                                                                          run_at=ctx.now - dt.timedelta(seconds=1)))
    w.run_jobs(**settings)
    run = w.run(import_id)
    assert (run.state, run.processed, run.created_count, run.error_count) == ("done", 5, 5, 0)
    assert titles(w) == sorted(["一", "二", "三", "坏行", "五", "张三的客户", "李四的客户"])


def test_a_row_refused_by_the_service_does_not_break_its_batch(world):
    w = world()
    with w.env.ctx() as ctx:  # lisi starts an import, then loses the right to create: each row is refused
        lisi = ctx.dbsession.get(User, w.ids["lisi"])
        run = create_import(ctx.as_user(lisi), notes_imports.NOTES_IMPORT, "n.csv",
                            csv_data([["标题"], ["甲"], ["乙"]]))
        save_mapping(ctx.as_user(lisi), notes_imports.NOTES_IMPORT, run, {0: "title"})
        start_import(ctx.as_user(lisi), notes_imports.NOTES_IMPORT, run, mode="create", key_field=None)
        import_id = run.id
        ctx.dbsession.execute(update(User).where(User.id == lisi.id).values(locale="en"))
    with w.env.ctx() as ctx:  # then the sales role goes: lisi keeps no role
        ctx.dbsession.execute(UserRole.__table__.delete().where(UserRole.user_id == w.ids["lisi"]))
    w.run_jobs()
    run = w.run(import_id)
    assert (run.state, run.created_count, run.error_count) == ("done", 0, 2)
    reasons = [error.reason for error in w.all(select(ImportRowError).order_by(ImportRowError.row_number))]
    assert reasons == ["You do not have the permission “scoped.note:create”."] * 2  # in lisi's language


def test_a_stale_batch_does_nothing(world):
    w = world()
    with w.env.ctx() as ctx:
        user_ctx = ctx.as_user(ctx.dbsession.get(User, w.ids["zhang"]))
        run = create_import(user_ctx, notes_imports.NOTES_IMPORT, "n.csv", csv_data([["标题"], ["甲"]]))
        save_mapping(user_ctx, notes_imports.NOTES_IMPORT, run, {0: "title"})
        start_import(user_ctx, notes_imports.NOTES_IMPORT, run, mode="create", key_field=None)
        reference = spec_reference(notes_imports.NOTES_IMPORT)
        run_import_batch(ctx, {"import_id": run.id, "start": 7, "spec": reference})  # not where it stands
        run_import_batch(ctx, {"import_id": 999999, "start": 0, "spec": reference})
        assert (run.processed, run.state) == (0, "queued")
        run_import_batch(ctx, {"import_id": run.id, "start": 0, "spec": "tests.nowhere:NOTHING"})
        assert run.state == "failed" and run.error == errors.ImportUnavailable().translated(run_user_locale(ctx, run))


def run_user_locale(ctx, run):
    return ctx.dbsession.get(User, run.user_id).locale


# -- who sees what ---------------------------------------------------------------------------

def test_an_import_is_its_uploaders_own(world):
    w = world()
    w.app.login(*ZHANG)
    import_id = upload(w.app, csv_data([["标题"], ["甲"]]))
    map_columns(w.app, import_id, {0: "title"})
    w.app.reset()
    w.app.login(*LISI)
    for path in ("", "/mapping", "/preview", "/progress", "/errors.csv", "/errors.xlsx"):
        w.app.get(f"/imports/{import_id}{path}", status=404)
    w.app.post_form(f"/imports/{import_id}/preview", {"mode": "create"}, status=404)
    assert w.run(import_id).state == "uploaded"


def test_anonymous_visitors_sign_in_first_and_posts_need_the_csrf_token(world):
    w = world()
    response = w.app.get(NEW, status=303)
    assert "/login?next=" in response.location
    assert w.app.get("/imports/1/progress", status=204)  # the polled fragment: no sign-in page inside
    w.app.login(*ZHANG)
    w.app.post(NEW, upload_files=[("file", "n.csv", csv_data([["标题"], ["甲"]]))], status=400)
    import_id = upload(w.app, csv_data([["标题"], ["甲"]]))
    w.app.post(f"/imports/{import_id}/mapping", {"col-0": "title"}, status=400)
    assert w.run(import_id).mapping == {}


def test_an_import_of_an_addon_not_installed_is_not_found(make_kehu_app, catalog):
    app = make_kehu_app(catalog=catalog)  # scoped is known but not installed
    app.login()
    app.get(NEW, status=404)
    app.get("/imports/new/nothing.here", status=404)


# -- the parts, without a database ---------------------------------------------------------------

def test_reading_decodes_sniffs_and_converts():
    assert decode_text(codecs.BOM_UTF8 + "标题".encode()) == ("标题", "utf-8")
    assert decode_text("标题".encode("gbk")) == ("标题", "gb18030")
    assert decode_text("标题\tA".encode("utf-16")) == ("标题\tA", "utf-16")
    with pytest.raises(errors.UnknownEncoding):
        decode_text(b"a\x00b")
    assert sniff_delimiter("a;b;c\n1,5;2;3") == ";"
    assert sniff_delimiter("a\tb\n") == "\t"
    assert sniff_delimiter("a,b;c\n") == ","
    table = read_upload("x.txt", "标题\t手机\n甲\t138\n\n乙\t139\n\n\n".encode("gbk"))
    assert (table.headers, table.rows, table.encoding) == (["标题", "手机"], [["甲", "138"], ["", ""], ["乙", "139"]],
                                                           "gb18030")
    assert [cell_text(v) for v in (13812345678.0, 1.5, True, dt.datetime(2024, 5, 31, 8, 30), dt.date(2024, 1, 2),
                                   None)] == ["13812345678", "1.5", "true", "2024-05-31 08:30:00", "2024-01-02", ""]
    with pytest.raises(errors.NoHeaderRow):
        read_upload("x.csv", b"\n,,\nvalue\n")
    with pytest.raises(errors.TooManyColumns):
        read_upload("x.csv", ",".join(["h"] * 201).encode())


def test_mapping_suggestions_and_checks():
    spec = notes_imports.NOTES_IMPORT
    assert normalise_header(" Mobile_No* ") == "mobileno"
    assert suggest_mapping(spec, ["Title", "手机号", "E-mail", "Mobile"], {}) == {0: "title", 1: "mobile", 2: "email"}
    assert suggest_mapping(spec, ["标题", "X"], {"标题": "", "X": "title"}) == {1: "title"}  # remembered wins
    column_errors, missing = check_mapping(spec, {0: "mobile", 1: "nonsense"})
    assert set(column_errors) == {1} and len(missing) == 1


class _Loose(BaseModel):
    title: str


def test_a_declaration_that_cannot_work_fails_at_start_up():
    spec = notes_imports.NOTES_IMPORT
    with pytest.raises(ConfigurationError, match="extra='forbid'"):
        dataclasses.replace(spec, schema=_Loose, fields=(ImportField("title", "Title"),)).check()
    with pytest.raises(ConfigurationError, match="key field 'owner'"):
        dataclasses.replace(spec, key_fields=("owner",)).check()
    with pytest.raises(ConfigurationError, match="must start with the model's addon"):
        dataclasses.replace(spec, key="other.notes").check()
    with pytest.raises(ConfigurationError, match="module-level name"):
        ImportSpec(key="scoped.local", model=ScopedNote, title="x", fields=(ImportField("title", "T"),),
                   schema=_StrictRow, create=lambda ctx, data: None).check()
    config = Configurator()
    config.add_directive("add_import", "core.imports.registry.add_import")
    config.add_import(spec)
    config.add_import(spec)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


class _StrictRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
