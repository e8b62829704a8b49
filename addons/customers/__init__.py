"""Bundled addon ``customers`` (客户管理): companies, their contacts and follow-ups, with 查重.

``includeme`` only registers routes and views; nothing happens at import time.
"""

from pyramid.config import Configurator

TEMPLATES = "addons.customers:templates/customers/"


def includeme(config: Configurator) -> None:
    """Routes and views; every route name starts with ``customers.``."""
    from . import api, duplicate_views, lists, settings_views, views

    config.add_route("customers.new", "/customers/new")
    config.add_route("customers.duplicates", "/customers/duplicates")
    config.add_route("customers.duplicates_check", "/customers/duplicates/check")  # htmx fragment under fields
    config.add_route("customers.handover", "/customers/{id:\\d+}/handover")  # 申请转移 (POST)
    config.add_route("customers.merge", "/customers/merge")  # admin: preview (GET), merge (POST)
    config.add_route("customers.pool_return", "/customers/{id:\\d+}/return")
    config.add_route("customers.pools", "/customers/pools")
    config.add_route("customers.pool_new", "/customers/pools/new")
    config.add_route("customers.pool_edit", "/customers/pools/{id:\\d+}/edit")
    config.add_route("customers.pool_claim", "/customers/{id:\\d+}/claim")
    config.add_route("customers.choices", "/customers/settings/choices")  # admin: sources, levels, industries
    config.add_route("customers.regions", "/customers/regions")  # htmx fragment: cities / districts <option>s
    config.add_list_page(lists.POOL_LIST)  # /customers/pool: 公海, claim
    _attachments_and_key_customers(config)  # /customers/key (重点客户), attachments, the lazy panels' loader
    config.add_list_page(lists.RECYCLE_LIST)  # /customers/recycle-bin: restore, purge
    config.add_list_page(lists.CUSTOMERS_LIST)  # /customers: views, filters, search, bulk actions, export
    config.add_route("customers.detail", "/customers/{id:\\d+}")
    _team(config)  # 团队成员: add, remove
    config.add_route("customers.edit", "/customers/{id:\\d+}/edit")
    config.add_route("customers.followup_add", "/customers/{id:\\d+}/followups")
    _followup_plans(config)  # 写跟进 from a list row; move / done / cancel a follow-up plan
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
    config.add_view(duplicate_views.duplicates_page, route_name="customers.duplicates",
                    renderer=TEMPLATES + "duplicates.jinja2", permission="customers.customer:read")
    config.add_view(duplicate_views.duplicates_check, route_name="customers.duplicates_check",
                    renderer=TEMPLATES + "duplicates_check.jinja2", permission="customers.customer:read")
    config.add_view(duplicate_views.handover_request, route_name="customers.handover", request_method="POST",
                    permission="customers.customer:read")
    config.add_view(duplicate_views.merge_page, route_name="customers.merge", renderer=TEMPLATES + "merge.jinja2",
                    permission="customers.customer:merge")
    config.add_view(views.pool_return, route_name="customers.pool_return", request_method="POST",
                    renderer=TEMPLATES + "detail.jinja2", permission="customers.customer:write")
    config.add_view(views.pool_claim, route_name="customers.pool_claim", request_method="POST",
                    permission="customers.pool:claim")
    config.add_view(views.pools_admin, route_name="customers.pools", renderer=TEMPLATES + "pools.jinja2",
                    permission="customers.pool:admin")
    _pool_rules(config)  # pool form (rules, members, days per level), pool history, lock, assign
    config.add_api_resource(api.CUSTOMERS)  # /api/v1/customers: CRUD + assign, claim, release, duplicates
    config.add_api_resource(api.CONTACTS)  # /api/v1/contacts
    config.add_api_resource(api.FOLLOWUPS)  # /api/v1/followups
    config.add_view(settings_views.choices_admin, route_name="customers.choices",
                    renderer=TEMPLATES + "choices.jinja2", permission="customers.settings:admin")
    config.add_view(settings_views.region_options, route_name="customers.regions", request_method="GET",
                    renderer=TEMPLATES + "region_options.jinja2", permission="customers.customer:read")
    config.add_import(".imports.CUSTOMERS_IMPORT")  # /imports/new/customers.customers
    config.add_import(".contact_imports.CONTACTS_IMPORT")  # /imports/new/customers.contacts
    config.add_list_page(lists.CONTACTS_LIST)  # /customers/contacts: search, export, import
    _contact_page(config)  # /customers/contacts/{id}: the contact's customer page


def _attachments_and_key_customers(config: Configurator) -> None:
    """重点客户 list; a customer's attachments (upload, download, delete); how the core's lazy
    360° panels find a customer (in scope or in one of the reader's pools)."""
    from . import attachments, lists, panels

    config.add_list_page(lists.KEY_CUSTOMERS_LIST)
    config.add_record_loader("customers_customer", panels.load_customer)
    config.add_route("customers.attachment_add", "/customers/{id:\\d+}/attachments")
    config.add_route("customers.attachment", "/customers/attachments/{id:\\d+}")
    config.add_route("customers.attachment_delete", "/customers/attachments/{id:\\d+}/delete")
    config.add_view(attachments.upload_view, route_name="customers.attachment_add", request_method="POST",
                    permission="customers.customer:write")
    config.add_view(attachments.download_view, route_name="customers.attachment", request_method="GET",
                    permission="customers.customer:read")
    config.add_view(attachments.delete_view, route_name="customers.attachment_delete", request_method="POST",
                    permission="customers.customer:write")


def _followup_plans(config: Configurator) -> None:
    from . import plan_views

    config.add_route("customers.followup_quick", "/customers/{id:\\d+}/followups/new")
    config.add_route("customers.plan_move", "/customers/plans/{id:\\d+}/move")
    config.add_route("customers.plan_done", "/customers/plans/{id:\\d+}/done")
    config.add_route("customers.plan_cancel", "/customers/plans/{id:\\d+}/cancel")
    config.add_view(plan_views.followup_quick, route_name="customers.followup_quick", request_method="GET",
                    renderer=TEMPLATES + "followup_quick.jinja2", permission="customers.followup:create")
    for route, view in (("customers.plan_move", plan_views.plan_move), ("customers.plan_done", plan_views.plan_done),
                        ("customers.plan_cancel", plan_views.plan_cancel)):
        config.add_view(view, route_name=route, request_method="POST", permission="customers.plan:write")


def _team(config: Configurator) -> None:
    from . import team_views

    config.add_route("customers.team_add", "/customers/{id:\\d+}/team")
    config.add_route("customers.team_remove", "/customers/{id:\\d+}/team/{user_id:\\d+}/remove")
    config.add_view(team_views.team_add, route_name="customers.team_add", request_method="POST",
                    permission="customers.customer:write")
    config.add_view(team_views.team_remove, route_name="customers.team_remove", request_method="POST",
                    permission="customers.customer:write")


def _pool_rules(config: Configurator) -> None:
    from . import pool_views

    for route in ("customers.pool_new", "customers.pool_edit"):
        config.add_view(pool_views.pool_edit, route_name=route, renderer=TEMPLATES + "pool_form.jinja2",
                        permission="customers.pool:admin")
    config.add_route("customers.pool_history", "/customers/pools/{id:\\d+}/history")  # its managers
    config.add_route("customers.lock", "/customers/{id:\\d+}/lock")
    config.add_route("customers.unlock", "/customers/{id:\\d+}/unlock")
    config.add_route("customers.assign", "/customers/{id:\\d+}/assign")  # 分配 from the pool / 转移
    config.add_view(pool_views.pool_history, route_name="customers.pool_history", request_method="GET",
                    renderer=TEMPLATES + "pool_history.jinja2", permission="customers.customer:read")
    for route in ("customers.lock", "customers.unlock"):
        config.add_view(pool_views.customer_lock, route_name=route, request_method="POST",
                        permission="customers.customer:write")
    config.add_view(pool_views.customer_assign, route_name="customers.assign", request_method="POST",
                    permission="customers.customer:read")
    config.add_view(pool_views.assign_form, route_name="customers.assign", request_method="GET",
                    renderer=TEMPLATES + "assign.jinja2", permission="customers.customer:read")


def _contact_page(config: Configurator) -> None:
    from . import contact_views

    config.add_route("customers.contact", "/customers/contacts/{id:\\d+}")
    config.add_view(contact_views.contact_page, route_name="customers.contact", request_method="GET",
                    permission="customers.contact:read")
