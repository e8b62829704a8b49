"""Where declared imports are found by key: ``config.add_import(spec)`` puts them in the Pyramid
registry for the pages; the batch jobs find theirs by the reference their payload carries
(``core.imports.declaration.spec_reference``), so a ``kehu worker`` process needs no web app."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator

from core.imports.declaration import ImportSpec

IMPORTS_KEY = "kehu.imports"


def import_specs(registry: Any) -> dict[str, ImportSpec]:
    return registry.setdefault(IMPORTS_KEY, {})  # type: ignore[no-any-return]


def add_import(config: Configurator, spec: ImportSpec | str) -> None:
    """The ``config.add_import(spec)`` directive (a spec, or its dotted name). The pages are the
    core's ``/imports/…``, shared by every import; two imports with one key fail at start-up."""
    spec = config.maybe_dotted(spec)
    if not isinstance(spec, ImportSpec):
        from pyramid.exceptions import ConfigurationError

        raise ConfigurationError(f"add_import needs an ImportSpec, not {spec!r}")
    spec.check()

    def register() -> None:
        import_specs(config.registry)[spec.key] = spec

    intr = config.introspectable("kehu imports", spec.key, spec.key, "kehu import")
    intr["spec"] = spec
    config.action(("kehu.import", spec.key), register, introspectables=(intr,))
