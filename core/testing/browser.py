"""The one Playwright browser of a test session (Debian's chromium), for every test directory.

Declared in the kehu pytest plugin, not in a conftest a test module imports from: an imported
session fixture is a second fixture, and a second ``sync_playwright()`` inside the first one's
event loop refuses to start. Without ``/usr/bin/chromium`` (or Playwright) browser tests are
skipped with the reason, unless ``KEHU_REQUIRE_BROWSER=1`` makes that a failure (CI sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _require_browser() -> bool:
    return os.environ.get("KEHU_REQUIRE_BROWSER", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    if _require_browser():
        pytest.fail(f"KEHU_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (apt install chromium)")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
