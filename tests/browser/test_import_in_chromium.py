"""An import in a real browser: a salesperson uploads a small XLSX of notes, checks the suggested
mapping and the preview (one row is flagged), starts the import, watches the progress bar until
the report shows the counts, and finds the errors file linked. The background jobs run in a
worker thread of the live server, as under ``kehu serve`` on SQLite.

With ``KEHU_SCREENSHOTS=/some/dir`` the upload, mapping, preview and report pages are saved there at
390 px and 1280 px wide."""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from core.i18n import _, translate
from core.testing.browser import DESKTOP, PHONE, LiveServer, open_page
from core.testing.plugin import TEST_SECRET
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

SALES = ("qianqi", "Spring-Tea-77")


def zh(msgid: str) -> str:
    return translate(_(msgid), "zh_CN")


class ImportServer:
    """The live server with the fixture addon ``scoped`` installed; its job worker starts when
    the test says so (so the test sees the import waiting, then moving)."""

    def __init__(self, url: str) -> None:
        from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
        from core.addons.installer import install_addons
        from core.cli.environment import CliEnvironment
        from core.db import make_engine
        from core.org.services import root_department
        from core.users.services import create_user
        from core.web.app import make_app

        catalog = AddonCatalog.discover([EntryPoint(name="scoped", value="tests.fixtures.addons.scoped",
                                                    group=ENTRY_POINT_GROUP)])
        env = CliEnvironment(database_url=url, catalog=catalog)
        try:
            with env.ctx() as ctx:
                install_addons(ctx, catalog, ["scoped"])
                create_user(ctx, *SALES, display_name="钱七", roles=["sales"],
                            department_id=root_department(ctx).id)
        finally:
            env.engine.dispose()
        self.engine = make_engine(url)
        self.app = make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET, "kehu.import_batch_size": "2"},
                            catalog=catalog, engine=self.engine)
        self.server = LiveServer(self.app)
        self.url = self.server.url
        self.worker: Any = None

    def start_worker(self) -> None:
        from core.jobs.worker import start_in_process_worker

        registry = self.app.registry
        self.worker = start_in_process_worker(registry.settings, bind=registry["kehu.session_factory"],
                                              addons=registry["kehu.addons"], poll_interval=0.2)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.server.stop()
        self.engine.dispose()


@pytest.fixture(scope="module")
def import_server(sqlite_kehu_db: str) -> Iterator[ImportServer]:
    server = ImportServer(sqlite_kehu_db)
    yield server
    server.stop()


@pytest.fixture
def page(browser: Any, import_server: ImportServer) -> Iterator[Any]:
    with open_page(browser, import_server.url) as page:
        yield page


def shoot(page: Any, name: str) -> None:
    """Save the page at phone and desktop width when KEHU_SCREENSHOTS names a folder."""
    folder = os.environ.get("KEHU_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(Path(folder) / f"import-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def notes_workbook(path: Path) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "客户"
    for row in (("标题", "手机", "邮箱"),
                ("浏览器客户一", 13800000001, "one@example.com"),
                ("浏览器客户二", 13800000002, None),
                ("浏览器客户三", 12345, None),            # not a mobile number: an error row
                ("浏览器客户四", None, "four@example.com"),
                ("浏览器客户五", 13800000005, None)):
        sheet.append(row)
    workbook.save(path)
    return path


def test_a_salesperson_imports_an_xlsx_and_sees_the_progress_and_the_report(page: Any, import_server: ImportServer,
                                                                           tmp_path: Path) -> None:
    from playwright.sync_api import expect

    login(page, *SALES)
    expect(page).to_have_url(path_is("/"))
    page.goto("/imports/new/scoped.notes")
    shoot(page, "upload")
    page.set_input_files("#import-file", str(notes_workbook(tmp_path / "客户.xlsx")))
    page.locator("#import-upload-form button[type=submit]").click()

    # Mapping: the Chinese headers are recognised.
    expect(page).to_have_url(path_is_import_step("mapping"))
    expect(page.locator("#col-0")).to_have_value("title")
    expect(page.locator("#col-1")).to_have_value("mobile")
    expect(page.locator("#col-2")).to_have_value("email")
    expect(page.locator("#import-mapping")).to_contain_text("13800000001")  # a number, shown without ".0"
    shoot(page, "mapping")
    page.locator("#import-mapping-form button[type=submit]").click()

    # Preview: five rows, the third flagged.
    expect(page).to_have_url(path_is_import_step("preview"))
    expect(page.locator("#import-preview tbody tr")).to_have_count(5)
    expect(page.locator("#import-preview tr[data-valid=false]")).to_have_count(1)
    expect(page.locator("#import-preview tr[data-row='4']")).to_have_attribute("data-valid", "false")
    shoot(page, "preview")
    page.locator("#import-start").click()

    # The run: waiting at 0 %, then the worker takes it, batch by batch, to the report.
    report = page.locator("#import-report")
    expect(report).to_have_attribute("data-state", "queued")
    expect(page.locator("#import-progress-bar")).to_have_text("0%")
    import_server.start_worker()
    expect(report).to_have_attribute("data-state", "done", timeout=20_000)
    expect(page.locator("#import-progress-bar")).to_have_text("100%")
    expect(page.locator("#import-created")).to_have_attribute("data-count", "4")
    expect(page.locator("#import-errors")).to_have_attribute("data-count", "1")
    expect(page.locator("#import-error-rows tbody tr")).to_have_count(1)
    expect(page.locator("#import-error-rows tbody")).to_contain_text("手机")
    expect(page.locator("#import-state")).to_have_text(zh("Completed"))
    expect(page.locator("#import-errors-csv")).to_be_visible()
    shoot(page, "report")
    assert page.problems == []


def path_is_import_step(step: str) -> Any:
    import re

    return re.compile(rf"^https?://[^/]+/imports/\d+/{step}$")
