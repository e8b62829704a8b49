"""The plugin manager and the relay that calls only installed addons' hookimpls.

One ``PluginManager`` per app, built from the catalog at start-up: the core's own hookimpls are
registered as plugin ``core`` and each addon's ``hooks`` module under the addon's name. Which of
them answer depends on the database's install state, so calls go through a ``HookRelay`` made
for the current set of installed addons.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import pluggy

PROJECT = "kehu"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def make_plugin_manager(specs: Iterable[Any]) -> pluggy.PluginManager:
    """Register the core hookspecs and hookimpls, then each addon's, in dependency order."""
    from core import hooks, hookspecs

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    specs = list(specs)
    for spec in specs:
        if spec.hookspecs_module:
            pm.add_hookspecs(importlib.import_module(spec.hookspecs_module))
    pm.register(hooks, name="core")
    for spec in specs:
        if spec.hooks_module:
            pm.register(importlib.import_module(spec.hooks_module), name=spec.name)
    return pm


class HookRelay:
    """``relay.kehu_menus()`` calls the hookimpls of the core and of ``installed`` addons only."""

    def __init__(self, pm: pluggy.PluginManager, installed: Iterable[str]) -> None:
        self._pm = pm
        self.installed = frozenset(installed) | {"core"}
        self._excluded = [
            plugin for name, plugin in pm.list_name_plugin() if name not in self.installed
        ]
        self._callers: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        caller = self._callers.get(name)
        if caller is None:
            if not hasattr(self._pm.hook, name):
                raise AttributeError(f"no hook named {name!r}")
            if self._excluded:
                caller = self._pm.subset_hook_caller(name, remove_plugins=self._excluded)
            else:
                caller = getattr(self._pm.hook, name)
            self._callers[name] = caller
        return caller
