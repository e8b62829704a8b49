"""The conversion page gains other addons' steps (``leads_conversion_steps``) as soon as they are
installed, without a restart; what a ticked step posts reaches ``leads_converted``, and a step's
refusal undoes the whole conversion and is shown on the page (L4)."""

import pytest
from sqlalchemy import func, select

from addons.customers.models import Customer
from addons.customers.tests.test_pages import login
from addons.leads import services
from addons.leads.models import Lead
from core.addons.installer import install_addons
from tests.fixtures.addons.leadwatch import hooks as leadwatch

from .conftest import ZHANG, as_user


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.customers", "addons.leads", "tests.fixtures.addons.leadwatch")


def qualified(app, name):
    with app.env.ctx() as ctx:
        return services.create_lead(as_user(ctx, app.users["zhang"]), name=name, status="qualified").id


def test_an_addon_installed_later_adds_its_step_and_receives_what_it_posted(app, catalog):
    leadwatch.CALLS.clear()
    first = qualified(app, "步骤甲公司")
    login(app, ZHANG)
    assert app.get(f"/leads/{first}/convert").html.select(".convert-step") == []
    with app.env.ctx() as ctx:
        install_addons(ctx, catalog, ["leadwatch"])
    form = app.get(f"/leads/{first}/convert").forms["convert-form"]
    assert form["opportunity.title"].value == "步骤甲公司" and form["opportunity"].checked
    form["opportunity.title"] = "CRM 一期"
    form.submit(status=303)
    (seen,) = leadwatch.CALLS
    assert seen.lead_id == first and dict(seen.options) == {"opportunity": {"title": "CRM 一期"}}

    second = qualified(app, "步骤乙公司")
    form = app.get(f"/leads/{second}/convert").forms["convert-form"]
    form["opportunity"] = False
    form.submit(status=303)
    assert dict(leadwatch.CALLS[-1].options) == {}  # an unticked step asks nothing


def test_a_steps_refusal_is_shown_and_nothing_is_converted(app, catalog):
    with app.env.ctx() as ctx:
        install_addons(ctx, catalog, ["leadwatch"])
    lead_id = qualified(app, "拒绝公司")
    login(app, ZHANG)
    form = app.get(f"/leads/{lead_id}/convert").forms["convert-form"]
    form["opportunity.refuse"] = True
    page = form.submit(status=200)
    assert page.html.select_one("#convert-error") is not None
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, lead_id).status == "qualified"
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 0
