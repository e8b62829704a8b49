"""The WSGI app gunicorn serves in a benchmark: Kehu as ``config/production.ini`` builds it
(``use = egg:kehu``: ``core.main``), plus the benchmark-only ``bench`` addon for the
bare-ceiling route. Database URL and secret come from the environment, as in production.

    gunicorn -c config/gunicorn.conf.py 'benchmarks.wsgi:app()'
"""

from __future__ import annotations

import os
from pathlib import Path

from pyramid.paster import get_appsettings
from pyramid.router import Router

PRODUCTION_INI = Path(__file__).resolve().parents[1] / "config" / "production.ini"


def app() -> Router:
    """Called once in each gunicorn worker (no preload, like ``kehu serve``)."""
    from benchmarks.cluster import catalog_of
    from benchmarks.generate import ADDONS
    from core.web.app import make_app

    settings = dict(get_appsettings(str(PRODUCTION_INI)))
    if os.environ.get("KEHU_BENCH_POOL_SIZE"):
        settings["kehu.pool_size"] = os.environ["KEHU_BENCH_POOL_SIZE"]
    return make_app(settings, catalog=catalog_of(**ADDONS))
