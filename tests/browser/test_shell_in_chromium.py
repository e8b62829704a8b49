"""The shell in a real browser: login, workbench, sidebar on desktop and as an off-canvas menu on
a phone, sign-out, and a wrong password. Chinese is the default language (browser locale zh-CN);
expected texts come from the app's own zh_CN catalogue, so the test follows translation edits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.i18n import _, translate
from core.testing.plugin import ADMIN
from tests.browser.steps import login, path_is

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000  # a loaded CI machine: generous, never a measure of speed
HAN = re.compile(r"[\u4e00-\u9fff]")


def zh(msgid: str) -> str:
    return translate(_(msgid), "zh_CN")


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh zh-CN browser context (no cookies) on a desktop viewport. Script errors and
    failed requests are collected in ``page.problems`` (the login's 400 is expected)."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_response(response: Any) -> None:
        if response.status >= 400 and not response.url.split("?")[0].endswith("/login"):
            problems.append(f"{response.status}: {response.url}")

    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}"))
    page.on("response", on_response)
    page.problems = problems
    yield page
    context.close()


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
