"""A list page in a real browser (the fixture addon's notes): a sales manager filters by level,
saves the filter as a view, ticks every row with the header checkbox, assigns them to a
colleague after a confirmation that shows the count, and stars a note — at phone width too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from core.testing.browser import LiveServer, open_page
from core.testing.plugin import TEST_SECRET
from tests.browser.steps import login

pytestmark = pytest.mark.browser

MANAGER = ("wangwu", "Winter-Snow-99")


@pytest.fixture(scope="module")
def notes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    """The app with the ``scoped`` fixture addon on SQLite: wangwu (sales manager) and zhangsan,
    twelve notes of wangwu's, three of them at level A."""
    from core.addons.catalog import ENTRY_POINT_GROUP, AddonCatalog
    from core.cli.database import initialise
    from core.cli.environment import CliEnvironment
    from core.db import make_engine
    from core.org.services import root_department
    from core.users.services import create_user
    from core.web.app import make_app
    from tests.fixtures.addons.scoped import services

    url = f"sqlite:///{tmp_path_factory.mktemp('lists') / 'kehu.sqlite'}"
    catalog = AddonCatalog.discover([EntryPoint(name="scoped", value="tests.fixtures.addons.scoped",
                                                group=ENTRY_POINT_GROUP)])
    env = CliEnvironment(database_url=url, catalog=catalog)
    initialise(env, admin_username="admin", admin_password="Kehu-Test-Pass-42", admin_email=None, addons=["scoped"])
    with env.ctx() as ctx:
        root = root_department(ctx).id
        wang = create_user(ctx, MANAGER[0], MANAGER[1], display_name="王五", roles=["sales_manager"],
                           department_id=root)
        zhang = create_user(ctx, "zhangsan", "Spring-Tea-77", display_name="张三", roles=["sales"],
                            department_id=root)
        notes = [services.create_note(ctx, f"客户 {n:02d}", owner_id=wang.id, mobile=f"138{n:08d}") for n in range(12)]
        services.set_level(ctx, [notes[n].id for n in (1, 5, 9)], "A")
        users = {"wang": wang.id, "zhang": zhang.id}
    env.engine.dispose()
    engine = make_engine(url)
    server = LiveServer(make_app({"kehu.database_url": url, "kehu.secret": TEST_SECRET}, engine=engine,
                                 catalog=catalog))
    yield server, users
    server.stop()
    engine.dispose()


@pytest.fixture
def page(browser: Any, viewport: dict[str, int], notes_server: Any) -> Iterator[Any]:
    with open_page(browser, notes_server[0].url, viewport) as page:
        yield page


def test_filter_save_a_view_select_all_and_assign(page: Any, notes_server: Any) -> None:
    _server, users = notes_server
    width = page.viewport_size["width"]
    # the phone run follows the desktop one on the same server: it hands the notes back
    target, target_name = (users["zhang"], "张三") if width > 800 else (users["wang"], "王五")
    login(page, *MANAGER)
    page.goto("/notes")
    assert page.locator("#list-total").inner_text() == "12"

    page.locator("#list-filters button[data-bs-target='#filter-panel']").click()
    page.locator("#filter-panel.show").wait_for()  # Bootstrap's collapse has finished opening
    page.select_option("#f-level", "A")
    page.locator("#filter-panel button[type=submit]").click()
    page.wait_for_url(re.compile(r"[?&]f\.level=A"))  # the filtered page, however fast it came
    page.wait_for_load_state()
    assert page.locator("#list-table tbody tr").count() == 3

    view_name = f"A 级客户 {width}"
    page.fill("#save-view input[name=name]", view_name)
    with page.expect_navigation():
        page.locator("#save-view button[type=submit]").click()
    assert page.locator(".kehu-view-tabs .nav-link.active").inner_text().strip() == view_name

    page.locator("[data-check-all=ids]").check()
    assert page.locator("input[name=ids]:checked").count() == 3
    page.select_option("#bulk-bar select[name=action]", "assign")
    with page.expect_navigation():
        page.locator("#bulk-bar button[type=submit]").click()
    assert page.locator("#bulk-count").get_attribute("data-count") == "3"
    page.select_option("#bulk-value", str(target))
    with page.expect_navigation():
        page.locator("#bulk-confirm").click()
    assert page.locator(".alert-success").count() == 1
    owners = page.locator("#list-table tbody [data-field=owner]").all_inner_texts()
    assert owners == [target_name] * 3

    row = page.locator("#list-table tbody tr").first
    starred_before = row.locator("button[data-starred]").get_attribute("data-starred") == "true"
    row.locator("button[data-starred]").click()  # htmx swaps the button in place
    page.wait_for_selector(f"#{row.get_attribute('id')} button[data-starred={'false' if starred_before else 'true'}]")
    page.goto("/notes?view=system:starred")
    assert page.locator("#list-table tbody tr").count() == (0 if starred_before else 1)
    assert page.problems == []
