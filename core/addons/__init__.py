"""The addon system: discovery by entry point, dependency order, install state, migrations.

Read in this order: ``manifest`` (what an addon declares), ``catalog`` (which addons exist and in
what order they install), ``migrations`` (each addon's own alembic history), ``installer``
(install / upgrade / uninstall, all or nothing), ``runtime`` (what a running app sees).
"""
