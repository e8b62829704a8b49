"""The JSON API (ARCHITECTURE §6): ``/api/v1/<resource>`` for every resource an addon declares,
personal access tokens, ``application/problem+json`` errors, the OpenAPI 3.1 document and the
API explorer page. Conventions for clients: docs/api.md; for addon authors: docs/addon-guide.md.
"""

from __future__ import annotations

import re

from pyramid.config import Configurator

#: Paths answered in JSON (errors as problem+json) and authenticated by bearer tokens.
API_PATH = re.compile(r"^/api/v\d+/")
API_PATH_PATTERN = API_PATH.pattern


def includeme(config: Configurator) -> None:
    from core.api.resources import add_api_resource

    config.add_directive("add_api_resource", add_api_resource)
    config.include(".problems")   # problem+json for every error under /api/v1/
    config.include(".openapi")    # /api/v1/openapi.json, /api/docs
