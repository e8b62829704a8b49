"""Where declared list pages are found by key.

In the web app, ``config.add_list_page`` keeps each page in the Pyramid registry
(``list_pages(registry)``). A worker process has no Pyramid registry and never runs an addon's
``includeme`` (``kehu worker`` loads only the addons' hooks modules), yet an export job must
rebuild the page its user exported. So a list page is declared, by convention, at module level
in its addon's ``lists.py`` (STYLE habit 1: every addon uses the same file names), and a job
finds it with ``find_list_page(package, key)``: importing ``<package>.lists`` registers nothing
and has no side effects, so it works the same in any process. ``check_declared`` lets the
directive refuse, at start-up, a page declared anywhere else, which a worker could not find.
"""

from __future__ import annotations

import importlib
from typing import Any

from pyramid.exceptions import ConfigurationError

from core.exceptions import KehuError
from core.i18n import _
from core.lists.declaration import ListPage

LIST_PAGES_KEY = "kehu.list_pages"
#: The module of an addon package that declares its list pages.
LISTS_MODULE = "lists"


class UnknownListPage(KehuError):
    message = _("The list “${key}” is not available (is its app still installed?).")


def list_pages(registry: Any) -> dict[str, ListPage]:
    return registry.setdefault(LIST_PAGES_KEY, {})  # type: ignore[no-any-return]


def declared_pages(package: str) -> dict[str, ListPage]:
    """The pages declared at module level in ``<package>.lists``, by key (empty without one)."""
    name = f"{package}.{LISTS_MODULE}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in (name, package):
            return {}
        raise
    return {value.key: value for value in vars(module).values() if isinstance(value, ListPage)}


def find_list_page(package: str, key: str) -> ListPage:
    page = declared_pages(package).get(key)
    if page is None:
        raise UnknownListPage(key=key)
    return page


def check_declared(page: ListPage, package: str) -> None:
    """Refuse a page a worker could not find: not a module-level name of ``<package>.lists``."""
    if declared_pages(package).get(page.key) is not page:
        raise ConfigurationError(f"list page {page.key!r}: declare it at module level in {package}.{LISTS_MODULE} "
                                 "(export jobs find it there)")


def addon_package(registry: Any, page: ListPage) -> str:
    """The package of the addon that declares ``page`` (its key's first part), from the app's catalog."""
    return registry["kehu.addons"].catalog.get(page.addon).package  # type: ignore[no-any-return]
