"""Bundled addon ``opportunities`` (商机管理): opportunities in pipelines of stages, their history,
won and lost, status notifications, scoring and the sales forecast.

``includeme`` only registers routes and views; nothing happens at import time.
"""

from pyramid.config import Configurator

TEMPLATES = "addons.opportunities:templates/opportunities/"


def includeme(config: Configurator) -> None:
    """Routes and views; every route name starts with ``opportunities.``."""
    from . import admin_views, api, board, lists, report_views, views

    config.add_static_view("static/opportunities", "addons.opportunities:static", cache_max_age=3600)
    config.add_list_page(lists.RANKING_LIST)  # /opportunities/ranking: open ones by score, with why
    config.add_list_page(lists.OPPORTUNITIES_LIST)  # /opportunities: views (赢单 / 输单 …), filters, export
    config.add_route("opportunities.new", "/opportunities/new")  # ?customer_id=, else a customer picker
    config.add_route("opportunities.detail", "/opportunities/{id:\\d+}")
    config.add_route("opportunities.edit", "/opportunities/{id:\\d+}/edit")
    config.add_view(views.opportunity_new, route_name="opportunities.new", renderer=TEMPLATES + "form.jinja2",
                    permission="opportunities.opportunity:create")
    config.add_view(views.opportunity_edit, route_name="opportunities.edit", renderer=TEMPLATES + "form.jinja2",
                    permission="opportunities.opportunity:write")
    config.add_view(views.opportunity_detail, route_name="opportunities.detail", request_method="GET",
                    renderer=TEMPLATES + "detail.jinja2", permission="opportunities.opportunity:read")
    board.include_board(config)  # /opportunities/board (看板), POST /opportunities/{id}/stage
    report_views.include(config)  # /opportunities/forecast: forecast, by owner and department, targets, stages
    admin_views.include(config)  # pipelines and stages, scoring weights, sales targets
    config.add_api_resource(api.OPPORTUNITIES)  # /api/v1/opportunities: CRUD + stage
    config.add_import(".imports.OPPORTUNITIES_IMPORT")
