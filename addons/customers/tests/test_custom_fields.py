"""Custom fields on customers: an admin's fields appear on the customer form (required ones
refused blank, nothing written), are saved with the customer and shown on its page; the edit
form holds the current values."""

import re

from sqlalchemy import func, select

from addons.customers.models import Customer
from core.customfields import services as custom
from core.customfields.models import CustomValue

from .conftest import ZHANG, post


def define(app, **fields):
    with app.env.ctx() as ctx:
        return custom.save_field(ctx, "customers_customer", **fields).name


def test_custom_fields_on_the_form_and_the_page(app):
    grade = define(app, label="合作等级", kind="select", choices="战略\n普通", required=True)
    budget = define(app, label="年采购额", kind="number")
    app.login(*ZHANG)
    form = app.get("/customers/new")
    assert form.html.select_one(f"#{grade}") is not None and form.html.select_one(f"#{budget}") is not None
    refused = post(app, "/customers/new", [("name", "上海华信科技有限公司"), ("deal_status", "open"), (grade, "")])
    assert refused.html.select_one(f"#{grade}.is-invalid") is not None
    bad_number = post(app, "/customers/new", [("name", "上海华信科技有限公司"), ("deal_status", "open"),
                                               (grade, "战略"), (budget, "很多")])
    assert bad_number.html.select_one(f"#{budget}.is-invalid") is not None
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 0
        assert ctx.dbsession.scalar(select(func.count()).select_from(CustomValue)) == 0
    created = post(app, "/customers/new", [("name", "上海华信科技有限公司"), ("deal_status", "open"),
                                            (grade, "战略"), (budget, "1200000")], status=303)
    customer_id = int(re.search(r"/customers/(\d+)$", created.location).group(1))
    page = app.get(f"/customers/{customer_id}")
    assert [dd.get_text() for dd in page.html.select("dd.custom-value")] == ["战略", "1200000"]
    edit = app.get(f"/customers/{customer_id}/edit")
    assert edit.html.select_one(f"#{grade} option[selected]")["value"] == "战略"
    post(app, f"/customers/{customer_id}/edit", [("name", "上海华信科技有限公司"), ("deal_status", "open"),
                                                  (grade, "普通"), (budget, "")], status=303)
    with app.env.ctx() as ctx:
        values = custom.values_for(ctx, Customer, [customer_id])[customer_id]
        assert values == {grade: "普通"}


def test_declared_choices_show_in_the_readers_language(app):
    """WTForms renders an option's label with str(): the core translates declared labels."""
    from core.i18n import _, localizer_for

    with app.env.ctx() as ctx:
        from addons.customers import services

        customer_id = services.create_customer(ctx, name="甲公司", owner_id=app.users["zhang"]).id
    app.login(*ZHANG)
    page = app.get(f"/customers/{customer_id}")
    option = page.html.select_one("#followup-form select[name=kind] option[value=phone]")
    assert option.get_text() == localizer_for("zh_CN").translate(_("Phone call"))
