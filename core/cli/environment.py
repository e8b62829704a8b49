"""What every command needs, built on first use: settings, engine, catalog, a service context."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.addons.catalog import AddonCatalog
from core.addons.exceptions import DatabaseNotInitialised
from core.addons.installer import installed_names, is_initialised
from core.context import Ctx
from core.db import make_engine
from core.db.engine import check_foreign_keys, schema_change_connection
from core.i18n import cli_locale
from core.plugins import HookRelay, make_plugin_manager
from core.settings import load_settings


class CliEnvironment:
    def __init__(self, *, config_uri: str | None = None, database_url: str | None = None,
                 catalog: AddonCatalog | None = None) -> None:
        self.config_uri = config_uri
        self.database_url = database_url
        self._catalog = catalog

    @functools.cached_property
    def settings(self) -> dict:
        raw: dict = {}
        if self.config_uri:
            from pyramid.paster import get_appsettings

            raw = dict(get_appsettings(self.config_uri))
        if self.database_url:
            raw["kehu.database_url"] = self.database_url
        settings = load_settings(raw, require_secret=False)
        if self.database_url:  # the command line wins over the environment
            settings["kehu.database_url"] = self.database_url
        return settings

    @functools.cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings["kehu.database_url"], pool_size=1)

    @functools.cached_property
    def catalog(self) -> AddonCatalog:
        return self._catalog if self._catalog is not None else AddonCatalog.discover()

    @functools.cached_property
    def plugin_manager(self):
        order, _broken = self.catalog.loadable_order()
        return make_plugin_manager(order)

    @contextlib.contextmanager
    def ctx(self, *, require_initialised: bool = True, schema: bool = False) -> Iterator[Ctx]:
        """A service context in one transaction: committed if the block succeeds.

        Refuses an empty database with "run kehu init", except for the commands that create it.
        ``schema``: the block runs migrations (init, install, upgrade, uninstall), on a
        ``schema_change_connection`` whose foreign keys are checked before the commit."""
        with contextlib.ExitStack() as stack:
            bind = stack.enter_context(schema_change_connection(self.engine)) if schema else self.engine
            session = stack.enter_context(Session(bind, expire_on_commit=False))
            with session.begin():
                initialised = is_initialised(session)
                if require_initialised and not initialised:
                    raise DatabaseNotInitialised()
                installed = installed_names(session) if initialised else set()
                hooks = HookRelay(self.plugin_manager, installed)
                yield Ctx(dbsession=session, hooks=hooks, settings=self.settings, locale=cli_locale(), system=True)
                if schema:
                    check_foreign_keys(session.connection())
