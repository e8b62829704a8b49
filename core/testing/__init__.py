"""Test support shared by the core, every bundled addon and partners' addons.

Installed as the pytest plugin ``kehu`` (entry point ``pytest11``), so any addon's tests get the
fixtures by having kehu installed: ``database_url`` (a fresh empty database, once on SQLite and
once on PostgreSQL), ``kehu_db`` (initialised, with an administrator), ``make_kehu_app`` (a
WebTest app with chosen addons installed) and ``catalog_of`` (a catalog of fixture addons).
"""
