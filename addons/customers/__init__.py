"""Bundled addon ``customers`` (客户管理): companies, their contacts and follow-ups, with 查重.

``includeme`` only registers routes and views; nothing happens at import time.
"""

from pyramid.config import Configurator

TEMPLATES = "addons.customers:templates/customers/"


def includeme(config: Configurator) -> None:
    """Routes and views; every route name starts with ``customers.``."""
    from . import api, lists, views

    config.add_route("customers.new", "/customers/new")
    config.add_route("customers.duplicates", "/customers/duplicates")
    config.add_route("customers.pool_return", "/customers/{id:\\d+}/return")
    config.add_route("customers.pools", "/customers/pools")
    config.add_route("customers.pool_new", "/customers/pools/new")
    config.add_route("customers.pool_edit", "/customers/pools/{id:\\d+}/edit")
    config.add_route("customers.pool_claim", "/customers/{id:\\d+}/claim")
    config.add_list_page(lists.POOL_LIST)  # /customers/pool: 公海, claim
    config.add_list_page(lists.CUSTOMERS_LIST)  # /customers: views, filters, search, bulk actions, export
    config.add_route("customers.detail", "/customers/{id:\\d+}")
    config.add_route("customers.edit", "/customers/{id:\\d+}/edit")
    config.add_route("customers.followup_add", "/customers/{id:\\d+}/followups")
    config.add_route("customers.contact_new", "/customers/{id:\\d+}/contacts/new")
    config.add_route("customers.contact_edit", "/customers/contacts/{id:\\d+}/edit")
    config.add_view(views.customer_detail, route_name="customers.detail", request_method="GET",
                    renderer=TEMPLATES + "detail.jinja2", permission="customers.customer:read")
    config.add_view(views.customer_new, route_name="customers.new", renderer=TEMPLATES + "form.jinja2",
                    permission="customers.customer:create")
    config.add_view(views.customer_edit, route_name="customers.edit", renderer=TEMPLATES + "form.jinja2",
                    permission="customers.customer:write")
    config.add_view(views.followup_add, route_name="customers.followup_add", request_method="POST",
                    renderer=TEMPLATES + "detail.jinja2", permission="customers.followup:create")
    config.add_view(views.contact_new, route_name="customers.contact_new", renderer=TEMPLATES + "contact_form.jinja2",
                    permission="customers.contact:create")
    config.add_view(views.contact_edit, route_name="customers.contact_edit",
                    renderer=TEMPLATES + "contact_form.jinja2", permission="customers.contact:write")
    config.add_view(views.duplicates, route_name="customers.duplicates", renderer=TEMPLATES + "duplicates.jinja2",
                    permission="customers.customer:read")
    config.add_view(views.pool_return, route_name="customers.pool_return", request_method="POST",
                    renderer=TEMPLATES + "detail.jinja2", permission="customers.customer:write")
    config.add_view(views.pool_claim, route_name="customers.pool_claim", request_method="POST",
                    permission="customers.pool:claim")
    config.add_view(views.pools_admin, route_name="customers.pools", renderer=TEMPLATES + "pools.jinja2",
                    permission="customers.pool:admin")
    for route in ("customers.pool_new", "customers.pool_edit"):
        config.add_view(views.pool_edit, route_name=route, renderer=TEMPLATES + "pool_form.jinja2",
                        permission="customers.pool:admin")
    config.add_api_resource(api.CUSTOMERS)  # /api/v1/customers: list, get, create, PATCH, delete
    config.add_import(".imports.CUSTOMERS_IMPORT")  # /imports/new/customers.customers
