"""Bundled addon ``leads`` (线索管理): leads, the lead pool (线索池) with batch claim and return,
automatic assignment, their follow-ups, the 查重 they share with customers, and the conversion
into a customer.

``includeme`` only registers routes and views; nothing happens at import time.
"""

from pyramid.config import Configurator

TEMPLATES = "addons.leads:templates/leads/"


def includeme(config: Configurator) -> None:
    """Routes and views; every route name starts with ``leads.``."""
    from . import admin_views, api, lists, views

    config.add_list_page(lists.POOL_LIST)  # /leads/pool: claim, assign, apply the rules
    config.add_list_page(lists.LEADS_LIST)  # /leads: views (已转化 …), filters, bulk actions, export
    config.add_route("leads.new", "/leads/new")
    config.add_route("leads.detail", "/leads/{id:\\d+}")
    config.add_route("leads.edit", "/leads/{id:\\d+}/edit")
    config.add_route("leads.followup_add", "/leads/{id:\\d+}/followups")
    config.add_route("leads.followup_quick", "/leads/{id:\\d+}/followups/new")  # 写跟进 from a list row
    config.add_route("leads.claim", "/leads/{id:\\d+}/claim")
    config.add_route("leads.return", "/leads/{id:\\d+}/return")
    config.add_route("leads.convert", "/leads/{id:\\d+}/convert")
    config.add_view(views.lead_new, route_name="leads.new", renderer=TEMPLATES + "form.jinja2",
                    permission="leads.lead:create")
    config.add_view(views.lead_edit, route_name="leads.edit", renderer=TEMPLATES + "form.jinja2",
                    permission="leads.lead:write")
    config.add_record_loader("leads_lead", views.load_lead)  # the lazy panels of a pool lead's page too
    config.add_view(views.lead_detail, route_name="leads.detail", request_method="GET",
                    renderer=TEMPLATES + "detail.jinja2", permission="leads.lead:read")
    config.add_view(views.followup_add, route_name="leads.followup_add", request_method="POST",
                    renderer=TEMPLATES + "detail.jinja2", permission="leads.followup:create")
    config.add_view(views.followup_quick, route_name="leads.followup_quick", request_method="GET",
                    renderer=views.QUICK_PAGE, permission="leads.followup:create")
    config.add_view(views.lead_claim, route_name="leads.claim", request_method="POST", permission="leads.pool:claim")
    config.add_view(views.lead_return, route_name="leads.return", request_method="POST",
                    renderer=TEMPLATES + "detail.jinja2", permission="leads.lead:write")
    config.add_view(views.lead_convert, route_name="leads.convert", renderer=TEMPLATES + "convert.jinja2",
                    permission="leads.lead:write")
    admin_views.include_admin(config)  # lead pools, assignment rules, the assignees' settings
    config.add_api_resource(api.LEADS)  # /api/v1/leads: CRUD + claim, release, convert
    config.add_import(".imports.LEADS_IMPORT")  # /imports/new/leads.leads: upload, mapping, preview, run
