"""Exports of list pages (issue 5 part 5; X1 scope, X6 masking, CSV injection) on the notes list
of the fixture addon ``scoped``: small exports in the request (CSV with a BOM, XLSX read back
with openpyxl), the filtered list and nothing else, formula cells made text, an audit entry;
large exports as chained chunk jobs run by the real worker (also in a separate process), the
progress page, the download for its owner only, the notification; refusals."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import io
import re
import subprocess
import sys
import zoneinfo
from pathlib import Path
from urllib.parse import quote, urlencode

import openpyxl
import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import func, select

from core.access.roles import create_role, role_by_key, set_role_permissions
from core.addons.catalog import AddonCatalog
from core.exports import csv_bytes, export_cell, safe_cell, xlsx_bytes
from core.files import StoredFile, content_disposition
from core.i18n import _, localizer_for
from core.jobs import worker
from core.jobs.models import DEAD, Job
from core.lists.declaration import Column, ListPage
from core.lists.export import EXPORT_CHUNK_JOB, chunk_key
from core.lists.export_models import ExportChunk, ExportRun
from core.lists.export_rows import Sheet, audit_detail, export_columns, file_name
from core.lists.query import Condition, ListState
from core.lists.registry import UnknownListPage, check_declared, declared_pages, find_list_page
from core.models import AuditEntry, User
from core.notifications.models import Notification
from core.org.services import create_department, root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped import services
from tests.fixtures.addons.scoped.lists import NOTES_LIST
from tests.fixtures.addons.scoped.models import ScopedNote

FIXTURE = "tests.fixtures.addons.scoped"
REPO = Path(__file__).resolve().parents[2]
SELLER = ("xiaoli", "Spring-Tea-77")  # role "exporter": own scope, read + export, no see_sensitive
MANAGER = ("wangwu", "Winter-Snow-99")  # sales manager: department scope, see_sensitive, export
SALES = ("zhangsan", "Autumn-Rain-88")  # sales: may read, may not export
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+2", "-3+4", "@SUM(A1:A9)", "\tTabbed"]
LARGE = {"kehu.export_sync_rows": "3", "kehu.export_chunk_rows": "2"}


def zh(message):
    return localizer_for("zh_CN").translate(message)


@pytest.fixture
def catalog(catalog_of):
    return catalog_of(FIXTURE)


def build_notes_app(make_kehu_app, catalog, cli_env, **settings):
    """xiaoli (exporter) and wangwu (manager) in 华东大区, zhangsan (sales) there too, and
    lisi's note in 华南 (outside wangwu's department). xiaoli's notes carry formula-like titles."""
    app = make_kehu_app(catalog=catalog, install=["scoped"], **settings)
    env = cli_env(catalog)
    with env.ctx() as ctx:
        root = root_department(ctx).id
        east = create_department(ctx, "华东大区", root).id
        south = create_department(ctx, "华南大区", root).id
        exporter = create_role(ctx, "exporter", "导出员", default_scope="own")
        set_role_permissions(ctx, exporter, ["core.workbench:read", "scoped.note:read", "scoped.note:export"])
        seller = create_user(ctx, *SELLER, roles=["exporter"], department_id=east)
        manager = create_user(ctx, *MANAGER, roles=["sales_manager"], department_id=east)
        sales = create_user(ctx, *SALES, roles=["sales"], department_id=east)
        lisi = create_user(ctx, "lisi", "Summer-Wind-55", roles=["sales"], department_id=south)
        notes = {"main": services.create_note(ctx, "上海华信科技", owner_id=seller.id, mobile="13812345678",
                                              email="li@example.com")}
        for n, title in enumerate(FORMULAS):
            notes[f"f{n}"] = services.create_note(ctx, title, owner_id=seller.id, mobile="13900001111")
        notes["manager"] = services.create_note(ctx, "王五的客户", owner_id=manager.id, mobile="13700002222")
        notes["south"] = services.create_note(ctx, "李四的客户", owner_id=lisi.id, mobile="13600003333")
        services.set_level(ctx, [notes["main"].id], "A")
        app.ids = {key: note.id for key, note in notes.items()}
        app.users = {"seller": seller.id, "manager": manager.id, "sales": sales.id}
    app.env = env
    return app


@pytest.fixture
def notes_app(make_kehu_app, catalog, cli_env):
    return build_notes_app(make_kehu_app, catalog, cli_env)


@pytest.fixture
def large_app(make_kehu_app, catalog, cli_env):
    return build_notes_app(make_kehu_app, catalog, cli_env, **LARGE)


def read_csv(response):
    assert response.body.startswith("\ufeff".encode())  # the BOM: Excel on Chinese Windows reads UTF-8
    return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))


def read_xlsx(body):
    return openpyxl.load_workbook(io.BytesIO(body)).active


def header():
    return [zh(_("Title")), zh(_("Mobile")), zh(_("Email")), zh(_("Level")), zh(_("Owner")), zh(_("Updated"))]


def audit_entries(env):
    with env.ctx() as ctx:
        return [(e.username, e.model, e.detail) for e in ctx.dbsession.scalars(
            select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id))]


def run_worker(app, catalog, max_jobs=None, **settings):
    """The real worker on the test database, until no job is due (or ``max_jobs`` ran)."""
    runner = worker.Worker(app.env.engine, catalog, {**app.env.settings, **LARGE, **settings})
    return runner.run(until_idle=True, max_jobs=max_jobs)


def chunk_jobs_done(env):
    with env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(Job).where(Job.name == EXPORT_CHUNK_JOB,
                                                                                Job.state == "done"))


# -- small exports, in the request ---------------------------------------------------------------

def test_csv_export_is_scoped_masked_formula_safe_and_audited(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*SELLER)
    response = app.get("/notes/export?format=csv")
    assert response.content_type == "text/csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    match = re.fullmatch(r"attachment; filename=\"[\w.-]+\"; filename\*=UTF-8''(\S+)", disposition)
    assert match and match.group(1).startswith(quote(zh(_("Notes")) + "-"))
    assert re.search(r"-\d{4}-\d{2}-\d{2}\.csv$", match.group(1))
    table = read_csv(response)
    assert table[0] == header()
    body = table[1:]
    assert len(body) == 1 + len(FORMULAS)  # own scope: wangwu's and lisi's notes are absent
    titles = [row[0] for row in body]
    assert "王五的客户" not in titles and "李四的客户" not in titles
    main = next(row for row in body if row[0] == "上海华信科技")
    assert main[1:5] == ["138****5678", "l***@example.com", "A", SELLER[0]]  # masked: no see_sensitive
    assert "13812345678" not in response.body.decode("utf-8-sig")
    assert sorted(t for t in titles if t != "上海华信科技") == sorted("'" + f for f in FORMULAS)
    assert [row[0] for row in body] == [row[0] for row in sorted(body, key=lambda r: -ids_of(ids, r[0]))]
    ((username, model, detail),) = audit_entries(app.env)
    assert (username, model) == (SELLER[0], "scoped_note")
    assert detail.startswith(f"{len(body)} rows, csv, ")


def ids_of(ids, title):
    """The note id behind an exported title (formula titles carry their leading ')."""
    plain = title[1:] if title.startswith("'") else title
    keys = {"上海华信科技": "main", **{f: f"f{n}" for n, f in enumerate(FORMULAS)}}
    return ids[keys[plain]]


def test_a_reader_with_see_sensitive_gets_plain_values_in_the_department(notes_app):
    app = notes_app
    app.login(*MANAGER)
    table = read_csv(app.get("/notes/export?format=csv"))
    titles = {row[0]: row for row in table[1:]}
    assert "王五的客户" in titles and "上海华信科技" in titles
    assert "李四的客户" not in titles  # 华南 is outside wangwu's department
    assert titles["上海华信科技"][1:3] == ["13812345678", "li@example.com"]


def test_xlsx_export_reads_back_as_text_masked_and_scoped(notes_app):
    app = notes_app
    app.login(*SELLER)
    response = app.get("/notes/export?format=xlsx")
    assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.search(r"filename\*=UTF-8''\S+\.xlsx$", response.headers["Content-Disposition"])
    sheet = read_xlsx(response.body)
    assert sheet.title == zh(_("Notes"))
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == header()
    assert all(c.font.b for c in sheet[1])
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 1 + len(FORMULAS)
    for row in rows:
        title = row[0]
        assert title.data_type == "s"  # never a formula ("f")
        assert not str(title.value).startswith(("=", "+", "-", "@", "\t"))
    main = next(row for row in rows if row[0].value == "上海华信科技")
    assert [c.value for c in main[1:4]] == ["138****5678", "l***@example.com", "A"]
    assert sorted(r[0].value for r in rows if r[0].value != "上海华信科技") == sorted("'" + f for f in FORMULAS)
    assert audit_entries(app.env)[0][2].startswith(f"{len(rows)} rows, xlsx, ")


def test_the_filtered_export_is_the_filtered_list(notes_app):
    app, ids = notes_app, notes_app.ids
    app.login(*MANAGER)
    query = {"filtered": "1", "op.title": "contains", "f.title": "客户", "sort": "title"}
    listed = [int(tr.attrs["id"].removeprefix("row-"))
              for tr in app.get("/notes?" + urlencode(query)).html.select("#list-table tbody tr")]
    assert listed == [ids["manager"]]
    table = read_csv(app.get("/notes/export?" + urlencode({**query, "format": "csv"})))
    assert [row[0] for row in table[1:]] == ["王五的客户"]
    searched = read_csv(app.get("/notes/export?" + urlencode({"q": "13812345678", "format": "csv"})))
    assert [row[0] for row in searched[1:]] == ["上海华信科技"]  # a whole phone number finds its note
    details = [detail for _user, _model, detail in audit_entries(app.env)]
    assert details[0].startswith("1 rows, csv, ") and "客户" in details[0]
    assert "13812345678" not in details[1] and "138****5678" in details[1]  # the audit log masks it too


def test_without_the_export_permission_nothing_is_exported(notes_app):
    app = notes_app
    app.login(*SALES)
    app.get("/notes/export?format=csv", status=403)
    app.get("/notes/export?format=xlsx", status=403)
    assert audit_entries(app.env) == []


def test_an_invalid_filter_or_format_is_a_400_and_exports_nothing(notes_app):
    app = notes_app
    app.login(*MANAGER)
    bad = app.get("/notes/export?" + urlencode({"filtered": "1", "op.created_at": "eq", "f.created_at": "soon",
                                                "format": "csv"}), status=400)
    assert zh(_("Enter a date as YYYY-MM-DD.")) in bad.text
    app.get("/notes/export?format=pdf", status=400)
    assert audit_entries(app.env) == []


def test_a_list_over_the_export_limit_is_refused(make_kehu_app, catalog, cli_env):
    app = build_notes_app(make_kehu_app, catalog, cli_env, **{"kehu.export_max_rows": "5"})
    app.login(*MANAGER)
    refused = app.get("/notes/export?format=xlsx", status=400)  # wangwu's department holds 7 notes
    assert zh(_("The list has ${count} rows; at most ${limit} can be exported at once. Narrow it with filters first.",
                mapping={"count": "7", "limit": "5"})) in refused.text
    app.get("/notes/export?" + urlencode({"filtered": "1", "op.title": "contains", "f.title": "客户",
                                          "format": "xlsx"}), status=200)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(ExportRun)) == 0


# -- large exports, as jobs -----------------------------------------------------------------------

def test_a_large_export_runs_as_chunk_jobs_with_progress_and_a_notification(large_app, catalog):
    app = large_app
    app.login(*MANAGER)
    started = app.get("/notes/export?format=xlsx", status=303)
    assert re.fullmatch(r"/exports/\d+", started.location.removeprefix("http://localhost"))
    run_id = int(started.location.rsplit("/", 1)[1])
    page = started.follow()
    progress = page.html.select_one("#export-progress")
    assert progress["data-state"] == "queued"
    assert progress["hx-get"] == f"/exports/{run_id}/progress" and progress["hx-trigger"] == "every 1s"
    assert page.html.select_one(".progress-bar")["style"] == "width: 0%"
    assert audit_entries(app.env) == []  # audited when the file exists

    run_worker(app, catalog)
    assert chunk_jobs_done(app.env) == 4  # 7 rows in chunks of 2
    with app.env.ctx() as ctx:
        run = ctx.dbsession.get(ExportRun, run_id)
        assert (run.state, run.total, run.done) == ("done", 7, 7)
        assert ctx.dbsession.scalar(select(func.count()).select_from(ExportChunk)) == 0  # chunks deleted
        stored = ctx.dbsession.get(StoredFile, run.file_id)
        assert (stored.owner_id, stored.purpose) == (app.users["manager"], "export")
        assert stored.expires_at - stored.created_at == dt.timedelta(days=7)
        (note,) = ctx.dbsession.scalars(select(Notification).where(Notification.kind == "core.export_ready"))
        assert (note.user_id, note.url) == (app.users["manager"], f"/files/{stored.id}")
        assert "7" in note.body and "XLSX" in note.body
    fragment = app.get(f"/exports/{run_id}/progress")
    done = fragment.html.select_one("#export-progress")
    assert done["data-state"] == "done" and not done.has_attr("hx-get")  # polling stops
    assert fragment.html.select_one("#export-download")["href"] == f"/files/{stored.id}"

    download = app.get(f"/files/{stored.id}")
    assert re.search(r"filename\*=UTF-8''\S+\.xlsx$", download.headers["Content-Disposition"])
    sheet = read_xlsx(download.body)
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in sheet[1]] == header()
    assert len(rows) == 7 and "李四的客户" not in [r[0] for r in rows]
    ids = app.ids
    order = sorted((k for k in ids if k != "south"), key=lambda k: -ids[k])  # the list's order: newest first
    assert [r[0] for r in rows] == [title_of(k) for k in order]
    assert next(r for r in rows if r[0] == "上海华信科技")[1] == "13812345678"  # wangwu may see it
    ((username, model, detail),) = audit_entries(app.env)
    assert (username, model) == (MANAGER[0], "scoped_note") and detail.startswith("7 rows, xlsx, ")

    app.reset()
    assert app.get(f"/exports/{run_id}/progress", status=286).body == b""  # signed out: htmx stops polling
    app.login(*SELLER)
    app.get(f"/files/{stored.id}", status=404)  # only its owner may download it
    app.get(f"/exports/{run_id}", status=404)
    app.get(f"/exports/{run_id}/progress", status=404)


def title_of(key):
    return {"main": "上海华信科技", "manager": "王五的客户", "south": "李四的客户",
            **{f"f{n}": "'" + f for n, f in enumerate(FORMULAS)}}[key]


def test_a_csv_export_counts_up_between_chunks(large_app, catalog):
    app = large_app
    app.login(*SELLER)
    run_worker(app, catalog)  # the periodic jobs of this period, out of the way
    run_id = int(app.get("/notes/export?format=csv", status=303).location.rsplit("/", 1)[1])
    assert run_worker(app, catalog, max_jobs=1, **{"kehu.export_chunk_rows": "4"}) == 1  # 4 of 6 rows
    fragment = app.get(f"/exports/{run_id}/progress").html.select_one("#export-progress")
    assert (fragment["data-state"], fragment["data-done"], fragment["data-total"]) == ("running", "4", "6")
    assert fragment.select_one(".progress-bar")["style"] == "width: 66%"
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(ExportChunk)) == 1
    run_worker(app, catalog, **{"kehu.export_chunk_rows": "4"})
    with app.env.ctx() as ctx:
        run = ctx.dbsession.get(ExportRun, run_id)
        file_id = run.file_id
    table = read_csv(app.get(f"/files/{file_id}"))
    assert table[0] == header() and len(table) == 7
    assert next(r for r in table if r[0] == "上海华信科技")[1] == "138****5678"  # masked for xiaoli


def test_a_chunk_rechecks_the_permission_of_its_user(large_app, catalog):
    app = large_app
    app.login(*SELLER)
    run_id = int(app.get("/notes/export?format=csv", status=303).location.rsplit("/", 1)[1])
    with app.env.ctx() as ctx:
        set_role_permissions(ctx, role_by_key(ctx, "exporter"), ["core.workbench:read", "scoped.note:read"])
    run_worker(app, catalog)
    with app.env.ctx() as ctx:
        run = ctx.dbsession.get(ExportRun, run_id)
        assert (run.state, run.error, run.file_id) == ("failed", "permission", None)
        assert ctx.dbsession.scalar(select(func.count()).select_from(StoredFile)) == 0
        (note,) = ctx.dbsession.scalars(select(Notification).where(Notification.user_id == app.users["seller"]))
        assert (note.kind, note.url) == ("core.job_failed", f"/exports/{run_id}")
    page = app.get(f"/exports/{run_id}")
    assert page.html.select_one("#export-progress")["data-state"] == "failed"
    assert zh(_("You may no longer export this list.")) in page.html.select_one("#export-failed").text
    assert audit_entries(app.env) == []


def test_a_dead_chunk_job_shows_the_export_as_failed(large_app):
    app = large_app
    app.login(*SELLER)
    run_id = int(app.get("/notes/export?format=csv", status=303).location.rsplit("/", 1)[1])
    with app.env.ctx() as ctx:
        job = ctx.dbsession.scalar(select(Job).where(Job.dedupe_key == chunk_key(run_id, 0)))
        assert job.name == EXPORT_CHUNK_JOB
        job.state = DEAD
    fragment = app.get(f"/exports/{run_id}/progress").html.select_one("#export-progress")
    assert fragment["data-state"] == "failed" and not fragment.has_attr("hx-get")


WORKER_PROCESS = """
import sys
from importlib.metadata import EntryPoint
from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
from core.db import make_engine
from core.jobs.worker import Worker

url, package = sys.argv[1], sys.argv[2]
catalog = AddonCatalog.discover([EntryPoint(name="scoped", value=package, group=ENTRY_POINT_GROUP)])
settings = {"kehu.database_url": url, "kehu.export_chunk_rows": "2"}
print("ran", Worker(make_engine(url), catalog, settings, poll_interval=0.05).run(until_idle=True, max_seconds=60))
"""


def test_a_worker_process_that_never_built_the_web_app_finishes_the_export(large_app, database_url):
    """``kehu worker`` loads only the addons' hooks: the page is found in the addon's lists.py."""
    app = large_app
    app.login(*SELLER)
    run_id = int(app.get("/notes/export?format=csv", status=303).location.rsplit("/", 1)[1])
    done = subprocess.run([sys.executable, "-c", WORKER_PROCESS, database_url, FIXTURE], cwd=REPO,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert chunk_jobs_done(app.env) == 4, done.stderr  # 6 rows: 2 + 2 + 2, then an empty last chunk
    with app.env.ctx() as ctx:
        run = ctx.dbsession.get(ExportRun, run_id)
        assert (run.state, run.done) == ("done", 6)
        file_id = run.file_id
    assert len(read_csv(app.get(f"/files/{file_id}"))) == 7


# -- the pieces ------------------------------------------------------------------------------------

def test_cells_numbers_stay_numbers_text_is_made_safe():
    assert [safe_cell(v) for v in ("=1+2", "+1", "-1", "@A1", "\tx", "\rx", "ok", None)] == \
        ["'=1+2", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "ok", ""]
    assert [export_cell(v) for v in (-5, 2.5, decimal.Decimal("-1.5"), True, "-5")] == \
        [-5, 2.5, decimal.Decimal("-1.5"), "True", "'-5"]
    table = list(csv.reader(io.StringIO(csv_bytes(["=h", "数"], [["=x", -5], ["-3+4", 1.5]]).decode("utf-8-sig"))))
    assert table == [["'=h", "数"], ["'=x", "-5"], ["'-3+4", "1.5"]]
    sheet = read_xlsx(xlsx_bytes(["标题", "n"], [["\x01=cmd|' /C calc'!A0", -5], ["=1+2", 2.5], [None, 0]],
                                 sheet_title="便签: [客户]/2026"))
    assert sheet.title == "便签 客户 2026"
    first, second, third = ([(c.value, c.data_type) for c in row] for row in sheet.iter_rows(min_row=2))
    assert first == [("'=cmd|' /C calc'!A0", "s"), (-5, "n")]  # a control character stripped, then made safe
    assert second == [("'=1+2", "s"), (2.5, "n")]
    assert third == [(None, "n"), (0, "n")]


def test_sheet_cells_follow_the_user():
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    sheet = Sheet(ctx=None, page=NOTES_LIST, columns=[], translate=lambda m: zh(m), tz=tz, reveal=False)
    moment = dt.datetime(2026, 11, 24, 18, 30, tzinfo=dt.UTC)
    assert sheet.cell(moment) == "2026-11-25 02:30"  # the user's day, as the page shows it
    assert sheet.cell(dt.date(2026, 11, 25)) == "2026-11-25"
    assert [sheet.cell(v) for v in (True, False, None)] == [zh(_("Yes")), zh(_("No")), ""]
    assert sheet.cell(_("Level A")) == zh(_("Level A"))
    assert [sheet.cell(decimal.Decimal(v)) for v in ("12", "1234.56", "0.1000000000000000000001")] == \
        [12, 1234.56, "0.1000000000000000000001"]
    assert sheet.cell(float("nan")) == "nan"
    assert sheet.cell("=x") == "'=x"


def test_names_columns_and_audit_summary():
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    assert file_name("便签", "csv", dt.datetime(2026, 11, 24, 17, tzinfo=dt.UTC), shanghai) == "便签-2026-11-25.csv"
    assert file_name('a/b:"c"', "xlsx", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), dt.UTC) == "a b c-2026-01-02.xlsx"
    assert content_disposition("便签-2026-11-25.csv") == (
        "attachment; filename=\"2026-11-25.csv\"; filename*=UTF-8''%E4%BE%BF%E7%AD%BE-2026-11-25.csv")
    page = dataclasses.replace(NOTES_LIST, columns=(*NOTES_LIST.columns[:2], Column("email", "E", export=False)))
    state = ListState.from_params(page, {"columns": ["title", "mobile", "email"]})
    assert [c.field for c in export_columns(page, state)] == ["title", "mobile"]
    state = ListState.from_params(NOTES_LIST, {"q": "138 1234 5678", "conditions": [["mobile", "eq", "13812345678", ""],
                                                                                    ["title", "contains", "客户", ""]]})
    detail = audit_detail(NOTES_LIST, state, 3, "csv")
    assert detail.startswith("3 rows, csv, ") and "客户" in detail
    assert "1234" not in detail and "138****5678" in detail
    assert isinstance(state.conditions[0], Condition)


def test_list_pages_are_found_in_their_addons_lists_module():
    assert declared_pages(FIXTURE) == {"scoped.notes": NOTES_LIST}
    assert find_list_page(FIXTURE, "scoped.notes") is NOTES_LIST
    with pytest.raises(UnknownListPage):
        find_list_page(FIXTURE, "scoped.other")
    assert declared_pages("tests.fixtures.addons.alpha") == {}  # no lists.py: no pages
    check_declared(NOTES_LIST, FIXTURE)
    elsewhere = ListPage(key="scoped.elsewhere", model=ScopedNote, title="x", path="/x",
                         columns=(Column("title", "T"),))
    with pytest.raises(ConfigurationError, match="lists"):
        check_declared(elsewhere, FIXTURE)


def test_an_export_for_a_deactivated_user_stops(large_app, catalog):
    app = large_app
    app.login(*SELLER)
    run_id = int(app.get("/notes/export?format=csv", status=303).location.rsplit("/", 1)[1])
    with app.env.ctx() as ctx:
        ctx.dbsession.get(User, app.users["seller"]).active = False
    run_worker(app, catalog)
    with app.env.ctx() as ctx:
        run = ctx.dbsession.get(ExportRun, run_id)
        assert (run.state, run.error) == ("failed", "inactive")
        assert ctx.dbsession.scalar(select(func.count()).select_from(ScopedNote)) == 8


def test_an_export_of_an_app_no_longer_installed_stops(large_app):
    app = large_app
    app.login(*SELLER)
    run_id = int(app.get("/notes/export?format=csv", status=303).location.rsplit("/", 1)[1])
    worker.Worker(app.env.engine, AddonCatalog([]), {**app.env.settings, **LARGE}).run(until_idle=True)
    with app.env.ctx() as ctx:
        run = ctx.dbsession.get(ExportRun, run_id)
        assert (run.state, run.error, run.file_id) == ("failed", "unavailable", None)
