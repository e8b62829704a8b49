"""What a running app knows about addons, kept in step with the database.

The catalog and the plugin manager are built once at start-up from every discovered addon.
Which addons are *installed* is database state: each request reads the registry version (one
primary-key query) and, when it moved, reloads the installed set. Routes, menus and hookimpls
of addons that are not installed then stop answering, in every worker, without a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

import pluggy
from sqlalchemy.orm import Session

from core.addons.catalog import AddonCatalog
from core.addons.installer import installed_names, registry_version
from core.exceptions import KehuError
from core.plugins import HookRelay, make_plugin_manager

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class InstalledState:
    """An immutable snapshot; replaced whole, so threads never see a half-made one."""

    version: int
    installed: frozenset[str]
    hooks: HookRelay
    cache: dict = dataclasses.field(default_factory=dict, compare=False)

    def is_installed(self, name: str) -> bool:
        return name == "core" or name in self.installed


class AddonRuntime:
    def __init__(self, catalog: AddonCatalog) -> None:
        self.catalog = catalog
        self.order, self.broken = catalog.loadable_order()
        for name, error in self.broken.items():
            log.error("addon %s is not loaded: %s", name, error)
        self.plugin_manager: pluggy.PluginManager = make_plugin_manager(self.order)
        self._state = InstalledState(-1, frozenset(), HookRelay(self.plugin_manager, ()))
        self._lock = threading.Lock()

    @property
    def state(self) -> InstalledState:
        return self._state

    def sync(self, session: Session) -> InstalledState:
        """Return the current snapshot, reloading it if another process changed the addons."""
        version = registry_version(session)
        state = self._state
        if version == state.version:
            return state
        with self._lock:
            if self._state.version != version:
                names = frozenset(installed_names(session)) & {spec.name for spec in self.order}
                self._state = InstalledState(version, names, HookRelay(self.plugin_manager, names))
            return self._state

    def describe_broken(self) -> dict[str, KehuError]:
        return dict(self.broken)
