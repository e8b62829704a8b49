"""Benchmark-only addon ``bench``: the "bare ceiling" of issue 7 — ``GET /_bench/ceiling?id=N``
answers with one customer's name, read by its primary key, through the same gunicorn workers,
tweens, session cookie, transaction and database pool as every page, but no template, no
permission check and no menus.

Its throughput, measured in the same run as the scenarios, is the most any page could reach on
this stack; the harness reports each scenario as a share of it. It lives under benchmarks/
(never in the core or a shipped addon) and is installed only in benchmark databases.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import select


def ceiling(request: Request) -> Response:
    from addons.customers.models import Customer

    try:
        customer_id = int(request.params.get("id", "1"))
    except ValueError:
        customer_id = 1
    name = request.dbsession.scalar(select(Customer.name).where(Customer.id == customer_id))
    return Response(name or "", content_type="text/plain", charset="utf-8")


def includeme(config: Configurator) -> None:
    config.add_route("bench.ceiling", "/_bench/ceiling")
    config.add_view(ceiling, route_name="bench.ceiling", request_method="GET")
