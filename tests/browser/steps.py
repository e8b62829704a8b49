"""Steps the browser tests share, so each test reads as the user's story."""

import re
from typing import Any


def login(page: Any, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form[action^='/login'] button[type=submit]").click()


def path_is(path: str) -> re.Pattern[str]:
    """Matches a page URL with this path, whatever host and query string."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")
