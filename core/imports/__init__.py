"""Imports by declaration: upload CSV/XLSX, map columns, preview with per-row errors, run as
batch jobs (each batch all or nothing), report with a downloadable errors file.

An addon declares an ``ImportSpec`` (``core.imports.declaration``) and registers it with
``config.add_import(spec)``; the pages under ``/imports`` serve every declared import."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    from core.imports.registry import add_import

    config.add_directive("add_import", add_import)
    config.include(".views")  # /imports/new/{key}, /imports/{id}/mapping|preview|progress|errors.csv
