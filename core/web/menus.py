"""The sidebar, built from ``kehu_menus`` of installed addons, cached per install state and
filtered per user by permission."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pyramid.exceptions import ConfigurationError
from pyramid.request import Request

from core.contributions import MenuItem


@dataclasses.dataclass
class MenuNode:
    item: MenuItem
    children: list[MenuNode]
    url: str | None
    active: bool = False


def collect_menu_items(hook_results: Iterable[list[MenuItem]]) -> list[MenuItem]:
    """Flatten hook results; two items with one id is a start-up error."""
    items: dict[str, MenuItem] = {}
    for batch in hook_results:
        for item in batch or ():
            if item.id in items:
                raise ConfigurationError(f"menu id {item.id!r} is declared twice")
            items[item.id] = item
    return sorted(items.values(), key=lambda i: (i.order, i.id))


def menu_for(request: Request) -> list[MenuNode]:
    state = request.addons
    items = state.cache.get("menus")
    if items is None:
        items = collect_menu_items(state.hooks.kehu_menus())
        state.cache["menus"] = items
    current = request.matched_route.name if request.matched_route else None
    visible = [i for i in items if i.permission is None or request.has_permission(i.permission)]
    nodes = {i.id: MenuNode(i, [], request.route_path(i.route) if i.route else None, i.route == current)
             for i in visible}
    roots: list[MenuNode] = []
    for node in nodes.values():
        parent = nodes.get(node.item.parent) if node.item.parent else None
        if parent is not None:
            parent.children.append(node)
            parent.active = parent.active or node.active
        elif node.item.parent is None:
            roots.append(node)
    # A heading whose children are all hidden is not shown.
    return [n for n in roots if n.url or n.children]
