"""Kehu's benchmarks (issue 7): scripts run from the repository, never installed.

``run.py`` is the load harness (gunicorn + PostgreSQL + an asyncio client); ``generate.py`` the
seeded data it measures; ``customer_search.py`` and ``list_page.py`` measure single requests in
process. The shared pieces are modules here, one concern each: ``cluster`` (a throwaway
PostgreSQL with Kehu initialised), ``names`` (Chinese company names with pinyin), ``bulk``
(COPY-friendly index handling).
"""
