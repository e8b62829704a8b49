"""The shell in a real browser: login, workbench, sidebar on desktop and as an off-canvas menu on
a phone, sign-out, and a wrong password. Chinese is the default language (browser locale zh-CN);
expected texts come from the app's own zh_CN catalogue, so the test follows translation edits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.i18n import _, translate
from core.testing.browser import PHONE, open_page
from core.testing.plugin import ADMIN
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

HAN = re.compile(r"[\u4e00-\u9fff]")


def zh(msgid: str) -> str:
    return translate(_(msgid), "zh_CN")


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh zh-CN desktop page; every error response but the login's expected 400 is a problem."""
    with open_page(browser, live_server.url,
                   expected_status=lambda response: response.url.split("?")[0].endswith("/login")) as page:
        yield page


def test_login_menu_offcanvas_and_sign_out(page: Any) -> None:
    from playwright.sync_api import expect

    login(page, *ADMIN)
    expect(page).to_have_url(path_is("/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("main h1")).to_have_text(zh("Workbench"))
    expect(page.locator("main h1")).to_have_text(HAN)  # Chinese by default, not an untranslated msgid
    expect(page.locator("#widget-core-welcome")).to_be_visible()

    # Desktop: the sidebar is always there, the menu button is not.
    sidebar = page.locator("#kehu-sidebar")
    menu_button = page.locator("button[aria-controls=kehu-sidebar]")
    expect(sidebar).to_be_visible()
    expect(menu_button).to_be_hidden()
    sidebar.get_by_role("link", name=zh("Apps")).click()
    expect(page).to_have_url(path_is("/apps"))
    expect(page.locator("main h1")).to_have_text(zh("Apps"))
    expect(sidebar.locator("a[aria-current=page]")).to_have_attribute("href", "/apps")

    # Phone: the sidebar is an off-canvas menu, hidden until the menu button opens it.
    page.set_viewport_size(PHONE)
    page.goto("/")
    expect(page.locator("main h1")).to_have_text(zh("Workbench"))
    expect(sidebar).to_be_hidden()
    expect(menu_button).to_be_visible()
    menu_button.click()
    expect(sidebar).to_be_visible()
    expect(sidebar).to_have_class(re.compile(r"\bshow\b"))
    sidebar.get_by_role("link", name=zh("Apps")).click()
    expect(page).to_have_url(path_is("/apps"))
    expect(page.locator("main h1")).to_have_text(zh("Apps"))
    expect(sidebar).to_be_hidden()

    # Sign out through the user menu.
    page.locator("header .dropdown-toggle:has(.bi-person-circle)").click()
    page.get_by_role("button", name=zh("Sign out")).click()
    expect(page).to_have_url(path_is("/login"))
    expect(page.locator("h1")).to_have_text(zh("Sign in"))
    expect(page.locator(".alert-success")).to_contain_text(zh("You have signed out."))
    page.goto("/apps")
    expect(page).to_have_url(path_is("/login"))  # the session is really gone

    assert page.problems == []


def test_wrong_password_shows_the_error_and_stays_on_login(page: Any) -> None:
    from playwright.sync_api import expect

    login(page, ADMIN[0], "not-the-password")
    expect(page.locator(".alert-danger")).to_have_text(zh("Wrong username or password."))
    expect(page).to_have_url(path_is("/login"))
    expect(page.locator("h1")).to_have_text(zh("Sign in"))
    expect(page.locator("input[name=username]")).to_have_value(ADMIN[0])
    expect(page.locator("input[name=password]")).to_have_value("")
    assert page.problems == []
