"""The admin pages in a real browser: the administrator creates a department and a salesperson in
it, signs out; the salesperson signs in and finds no administration in the menu, and an admin
address answers "not allowed". Chinese is the default language (browser locale zh-CN)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.i18n import _, translate
from core.testing.browser import open_page
from core.testing.plugin import ADMIN
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

SALES = ("zhaoliu", "Spring-Tea-77")


def zh(msgid: str) -> str:
    return translate(_(msgid), "zh_CN")


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh zh-CN desktop page (the one expected 403 is checked by the test itself)."""
    with open_page(browser, live_server.url) as page:
        yield page


def test_admin_creates_a_department_and_a_salesperson_who_sees_no_admin_menu(page: Any) -> None:
    from playwright.sync_api import expect

    login(page, *ADMIN)
    expect(page).to_have_url(path_is("/"))
    sidebar = page.locator("#kehu-sidebar")
    for path in ("/admin/users", "/admin/departments", "/admin/roles"):
        expect(sidebar.locator(f"a[href='{path}']")).to_be_visible()

    # A department, from the tree page.
    sidebar.locator("a[href='/admin/departments']").click()
    expect(page).to_have_url(path_is("/admin/departments"))
    page.locator("main a[href='/admin/departments/new']").click()
    page.fill("#department-form input[name=name]", "华东销售部")
    page.locator("#department-form button[type=submit]").click()
    expect(page).to_have_url(path_is("/admin/departments"))
    expect(page.locator(".alert-success")).to_contain_text("华东销售部")
    expect(page.locator("#department-tree")).to_contain_text("华东销售部")

    # A salesperson in it.
    page.goto("/admin/users/new")
    page.fill("#user-form input[name=username]", SALES[0])
    page.fill("#user-form input[name=display_name]", "赵六")
    page.fill("#user-form input[name=password]", SALES[1])
    page.fill("#user-form input[name=post]", "销售代表")
    department = page.locator("#user-form select[name=department_id] option", has_text="华东销售部")
    page.select_option("#user-form select[name=department_id]", department.get_attribute("value"))
    expect(page.locator("#user-form input[name=roles]:checked")).to_have_count(1)  # 销售 by default
    page.locator("#user-form button[type=submit]").click()
    expect(page).to_have_url(path_is("/admin/users"))
    row = page.locator("#user-table tbody tr", has_text=SALES[0])
    expect(row).to_contain_text("赵六")
    expect(row).to_contain_text("华东销售部")

    # Sign out; the salesperson signs in.
    page.locator("header .dropdown-toggle:has(.bi-person-circle)").click()
    page.get_by_role("button", name=zh("Sign out")).click()
    expect(page).to_have_url(path_is("/login"))
    login(page, *SALES)
    expect(page).to_have_url(path_is("/"))
    expect(page.locator("main h1")).to_have_text(zh("Workbench"))
    expect(page.locator("a[href^='/admin/']")).to_have_count(0)
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text(zh("Not allowed"))
    assert page.problems == []
