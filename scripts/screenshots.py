"""Screenshots of the shell's pages for a design review (the PNGs are not committed).

Prepares a demo database with ``kehu demo --no-serve`` in a temporary folder, serves the real
WSGI app on 127.0.0.1 from a background thread and, with Debian's chromium through Playwright,
saves full-page PNGs at a phone width (390 px) and a desktop width (1280 px)::

    python scripts/screenshots.py                 # into /tmp/kehu-shots, in Chinese
    python scripts/screenshots.py out/ --locale en

Files are named ``<width>-<page>.png``: login, login-error, home, menu (the phone's open
off-canvas menu), apps, preferences, notifications, notification-settings, search, 404 and,
with the customers addon, its lists, the 查重 page and one customer's 360° page; with the calendar,
its week, month, agenda and team views, the item form, the subscription and import pages.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from core.testing.browser import CHROMIUM_ARGS, LiveServer

CHROMIUM = "/usr/bin/chromium"
DEMO_ADMIN = ("admin", "kehu-demo-1")
DEMO_MANAGER = ("manager1", "kehu-demo-1")
WIDTHS = {390: 844, 1280: 800}  # width: height of the first screen (pages are shot in full)
CUSTOMER_PAGES = (("customers", "/customers"), ("pool", "/customers/pool"), ("key-customers", "/customers/key"),
                  ("contacts", "/customers/contacts"), ("duplicates", "/customers/duplicates?name=华信"),
                  ("recycle-bin", "/customers/recycle-bin"), ("customer-search", "/search?q=hx"))
CALENDAR_PAGES = (("calendar-week", "/calendar"), ("calendar-month", "/calendar?view=month"),
                  ("calendar-agenda", "/calendar/agenda"), ("calendar-team", "/calendar/team"),
                  ("calendar-new", "/calendar/items/new"), ("calendar-subscription", "/calendar/subscription"),
                  ("calendar-import", "/calendar/import"))


def prepare_demo(folder: Path) -> str:
    """Run ``kehu demo --no-serve`` with ``folder`` as the working directory; return the URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("KEHU_DATABASE_URL", "KEHU_CONFIG")}
    subprocess.run([sys.executable, "-c", "from core.cli import main; main()", "demo", "--no-serve"],
                   cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL)
    return f"sqlite:///{folder / 'var' / 'kehu.sqlite'}"


def serve(database_url: str) -> LiveServer:
    from core.web.app import make_app

    return LiveServer(make_app({"kehu.database_url": database_url}))  # the secret is kept beside the database


def shoot(page: Any, out: Path, name: str, *, full_page: bool = True) -> None:
    page.evaluate("document.fonts.ready")
    path = out / f"{page.viewport_size['width']}-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(path)


def login(page: Any, username: str, password: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form[action^='/login'] button[type=submit]").click()
    page.wait_for_load_state()


def take_all(base_url: str, out: Path, locale: str, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for width, height in WIDTHS.items():
            context = browser.new_context(base_url=base_url, locale=locale.replace("_", "-"),
                                          viewport={"width": width, "height": height})
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.goto("/login")
            shoot(page, out, "login")
            login(page, DEMO_ADMIN[0], "wrong-password")
            shoot(page, out, "login-error")
            login(page, *DEMO_ADMIN)
            page.wait_for_url(f"{base_url}/")
            shoot(page, out, "home")
            toggle = page.locator("button[aria-controls=kehu-sidebar]")
            if toggle.is_visible():
                toggle.click()
                page.locator("#kehu-sidebar.show").wait_for()
                page.wait_for_timeout(400)  # the slide-in transition
                shoot(page, out, "menu", full_page=False)
            for name, path in (("apps", "/apps"), ("preferences", "/preferences"),
                               ("notifications", "/notifications"),
                               ("notification-settings", "/preferences/notifications"),
                               ("search", "/search?q=adm"), ("404", "/no/such/page")):
                page.goto(path)
                shoot(page, out, name)
            for name, path in CUSTOMER_PAGES:  # when the customers addon is installed
                if page.goto(path).status == 200:
                    shoot(page, out, name)
            first = page.locator("#list-table tbody [data-field=name] a").first
            if page.goto("/customers").status == 200 and first.count():
                first.click()
                page.wait_for_load_state("networkidle")  # the lazy 360° panels
                shoot(page, out, "customer")
            context.close()
            context = browser.new_context(base_url=base_url, locale=locale.replace("_", "-"),
                                          viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto("/login")
            login(page, *DEMO_MANAGER)  # the calendar is a person's: a manager's has a team
            shoot(page, out, "home-manager")
            for name, path in CALENDAR_PAGES:  # when the calendar is installed
                if page.goto(path).status == 200:
                    page.wait_for_load_state("networkidle")  # the calendar's events.json
                    shoot(page, out, name)
            context.close()
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="/tmp/kehu-shots", type=Path,  # noqa: S108
                        help="output folder (default: /tmp/kehu-shots)")
    parser.add_argument("--locale", default="zh_CN", help="browser language (default: zh_CN)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"browser executable (default: {CHROMIUM})")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"no browser at {args.chromium} (apt install chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kehu-shots-") as folder:
        server = serve(prepare_demo(Path(folder)))
        try:
            take_all(server.url, args.out, args.locale, args.chromium)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
