"""Bundled addon ``leads`` (线索管理): leads, the lead pool (线索池) with batch claim and return,
their follow-ups, and the 查重 they share with customers.

``includeme`` only registers routes and views; nothing happens at import time.
"""

from pyramid.config import Configurator

TEMPLATES = "addons.leads:templates/leads/"


def includeme(config: Configurator) -> None:
    """Routes and views; every route name starts with ``leads.``."""
    from . import api

    config.add_api_resource(api.LEADS)  # /api/v1/leads: CRUD + claim, release, convert
