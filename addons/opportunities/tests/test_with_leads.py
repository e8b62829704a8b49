"""The two addons cooperate only through hooks (issue: "install leads alone, then add
opportunities: conversion gains the opportunity step without a restart"; "uninstalling
opportunities leaves leads working"), and the customers addon asks opportunities for a
customer's value and whether it may go back to the pool."""

import pytest
from sqlalchemy import func, select

from addons.customers import services as customers
from addons.customers.tests.test_pages import login
from addons.leads import services as leads
from addons.leads.conversion import convert_lead
from addons.leads.models import Lead
from addons.opportunities import services
from addons.opportunities.models import Opportunity
from core.addons.installer import install_addons, uninstall_addon
from core.models import User

from .conftest import ZHANG, _people, as_user


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.customers", "addons.leads", "addons.opportunities")


@pytest.fixture
def leads_app(make_kehu_app, catalog, cli_env):
    """The web app with leads installed and opportunities not (yet)."""
    kehu = make_kehu_app(catalog=catalog, install=["leads"])
    kehu.env = cli_env(catalog)
    kehu.users = _people(kehu.env)
    return kehu


def qualified(app, name, **fields):
    with app.env.ctx() as ctx:
        return leads.create_lead(as_user(ctx, app.users["zhang"]), name=name, status="qualified", **fields).id


def admin(ctx):
    return ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())


def opportunities(app):
    with app.env.ctx() as ctx:
        return [(o.title, str(o.amount), o.lead_id, o.owner_id) for o in ctx.dbsession.scalars(
            select(Opportunity).order_by(Opportunity.id))]


def test_installing_opportunities_later_adds_the_step_and_uninstalling_leaves_leads_working(leads_app, catalog):
    app = leads_app
    first = qualified(app, "先转化公司")
    login(app, ZHANG)
    assert app.get(f"/leads/{first}/convert").html.select(".convert-step") == []
    app.get(f"/leads/{first}/convert").forms["convert-form"].submit(status=303)

    with app.env.ctx() as ctx:
        install_addons(admin(ctx), catalog, ["opportunities"])
    second = qualified(app, "后转化公司", budget="80000")
    form = app.get(f"/leads/{second}/convert").forms["convert-form"]  # the same process: no restart
    assert form["opportunity"].checked and form["opportunity.amount"].value == "80000.00"
    form["opportunity.title"], form["opportunity.expected_close"] = "CRM 一期", "2027-06-30"
    form.submit(status=303)
    assert opportunities(app) == [("CRM 一期", "80000.00", second, app.users["zhang"])]

    third = qualified(app, "金额有误公司")
    form = app.get(f"/leads/{third}/convert").forms["convert-form"]
    form["opportunity.amount"] = "-5"
    page = form.submit(status=200)
    assert page.html.select_one("#convert-error") is not None  # the opportunity's refusal undoes it all
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, third).status == "qualified"

    with app.env.ctx() as ctx:
        uninstall_addon(admin(ctx), catalog, "opportunities")
    assert app.get(f"/leads/{third}/convert").html.select(".convert-step") == []
    app.get(f"/leads/{third}/convert").forms["convert-form"].submit(status=303)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, third).status == "converted"
    assert len(opportunities(app)) == 1  # nothing more was opened


def test_the_api_conversion_opens_the_opportunity_it_is_asked_for(leads_app, catalog):
    app = leads_app
    with app.env.ctx() as ctx:
        install_addons(admin(ctx), catalog, ["opportunities"])
    lead_id = qualified(app, "接口转化公司", budget="12000")
    with app.env.ctx() as ctx:
        convert_lead(as_user(ctx, app.users["zhang"]), lead_id, options={"opportunity": {"title": ""}})
    assert opportunities(app) == [("接口转化公司", "12000.00", lead_id, app.users["zhang"])]


def test_a_customers_value_is_its_won_deals_and_an_open_one_keeps_it_from_the_pool(leads_app, catalog):
    app = leads_app
    with app.env.ctx() as ctx:
        install_addons(admin(ctx), catalog, ["opportunities"])
    with app.env.ctx() as ctx:
        zhang = as_user(ctx, app.users["zhang"])
        customer = customers.create_customer(zhang, name="价值客户", key_customer=True).id
        idle = customers.create_customer(zhang, name="闲置客户").id
        won = services.create_opportunity(zhang, customer_id=customer, title="一期", amount="30000")
        services.create_opportunity(zhang, customer_id=customer, title="二期", amount="5000")  # open
        from addons.opportunities.models import Stage

        won_stage = ctx.dbsession.scalars(select(Stage).where(Stage.kind == "won")).first()
        services.move_stage(zhang, won.id, won_stage.id)
        assert ctx.hooks.customers_value(ctx=ctx, customer_ids=[customer, idle]) == [{customer: 30000}]
        exempt = ctx.hooks.customers_pool_return_exempt(ctx=ctx, customer_ids=[customer, idle])
        assert [sorted(answer) for answer in exempt] == [[customer]]
    login(app, ZHANG)
    assert "¥30,000.00" in app.get("/customers/key").text
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Opportunity)) == 2
