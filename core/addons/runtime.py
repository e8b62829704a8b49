"""What a running app knows about addons, kept in step with the database.

The catalog and the plugin manager are built once at start-up from every discovered addon.
Which addons are *installed* is database state: each request reads the registry version (one
primary-key query) and, when it moved, reloads the installed set. Routes, menus and hookimpls
of addons that are not installed then stop answering, in every worker, without a restart. The
same read brings the configuration version: when it moved, the snapshot keeps its addons and
starts an empty ``cache`` (``core.config_cache``).
"""

from __future__ import annotations

import dataclasses
import logging
import threading

import pluggy
from sqlalchemy.orm import Session

from core.addons.catalog import AddonCatalog
from core.addons.installer import installed_names, registry_versions
from core.exceptions import KehuError
from core.plugins import HookRelay, make_plugin_manager

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class InstalledState:
    """An immutable snapshot; replaced whole, so threads never see a half-made one."""

    version: int
    installed: frozenset[str]
    hooks: HookRelay
    config_version: int = 0
    #: Menus, job handlers and ``core.config_cache`` values: valid for this snapshot only.
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
        """Return the current snapshot, reloading it if another process changed the addons or
        the configuration.

        Counters only grow: a thread that read them just before another thread saw them move
        gets the newer addons, but with a cache of its own, since what it reads next may
        still be older than the snapshot (an SQLite transaction reads from its first read)."""
        read = registry_versions(session)
        state = self._state
        if read == (state.version, state.config_version):
            return state
        with self._lock:
            state = self._state
            version, config_version = read
            if version > state.version:
                names = frozenset(installed_names(session)) & {spec.name for spec in self.order}
                state = InstalledState(version, names, HookRelay(self.plugin_manager, names), config_version)
            elif version == state.version and config_version > state.config_version:
                state = dataclasses.replace(state, config_version=config_version, cache={})
            else:
                return dataclasses.replace(state, cache={})
            self._state = state
            return state

    def describe_broken(self) -> dict[str, KehuError]:
        return dict(self.broken)
