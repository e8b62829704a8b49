"""The contacts list (/customers/contacts: the reader's customers' contacts only, phones masked
for sales, not those in the recycle bin) and the contacts import (customer by name variant or
credit code, only customers the importer may change, bad rows reported, nothing half-written)."""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from addons.customers import services
from addons.customers.models import Contact
from core.i18n import _, localizer_for
from core.imports.models import ImportRun
from core.jobs import worker

from .conftest import WANG, ZHANG

CODE = "91350100M000100Y43"


def customer(app, name, owner, **fields):
    with app.env.ctx() as ctx:
        created = services.create_customer(ctx, name=name, owner_id=app.users[owner], **fields)
        services.add_contact(ctx, created.id, name=f"{name[:2]}联系人", mobile="13800138000")
        return created.id


def test_the_list_shows_the_readers_customers_contacts_masked(app):
    mine = customer(app, "上海华信科技有限公司", "zhang")
    customer(app, "北京远航有限公司", "lisi")
    app.login(*ZHANG)
    page = app.get("/customers/contacts")
    assert len(page.html.select("#list-table tbody tr")) == 1
    assert "上海华信科技有限公司" in page.text and "北京远航有限公司" not in page.text
    assert "138****8000" in page.text and "13800138000" not in page.text
    with app.env.ctx() as ctx:
        services.delete_customer(ctx, mine)
    assert app.get("/customers/contacts").html.select("#list-table tbody tr") == []


def test_import_contacts_by_name_variant_and_credit_code(app, catalog):
    customer(app, "上海华信科技有限公司", "zhang")
    customer(app, "杭州云栖有限公司", "zhang", credit_code=CODE)
    customer(app, "北京远航有限公司", "lisi")
    app.login(*ZHANG)
    template = app.get("/imports/new/customers.contacts/template.xlsx")
    header = [c.value for c in load_workbook(io.BytesIO(template.body)).active[1]]
    assert header[0] == localizer_for("zh_CN").translate(_("Customer"))
    data = ("客户名称,联系人,手机,邮箱\r\n"
            "上海华信科技 有限责任公司,王经理,13900139000,wang@example.com\r\n"
            f"{CODE},赵总,13700137000,\r\n"
            "北京远航有限公司,偷看,13600136000,\r\n"
            "上海华信科技有限公司,错号,12345,\r\n").encode()
    response = app.post("/imports/new/customers.contacts", {"csrf_token": app.csrf_token()},
                        upload_files=[("file", "contacts.csv", data)], status=303)
    import_id = int(response.location.rstrip("/").split("/")[-2])
    app.post_form(f"/imports/{import_id}/mapping", {"col-0": "customer", "col-1": "name", "col-2": "mobile",
                                                    "col-3": "email"}, status=303)
    app.post_form(f"/imports/{import_id}/preview", {"mode": "create", "key_field": ""}, status=303)
    worker.Worker(app.env.engine, catalog, app.env.settings).run(until_idle=True)
    with app.env.ctx() as ctx:
        imported = ["王经理", "赵总", "偷看", "错号"]
        names = sorted(ctx.dbsession.scalars(select(Contact.name).where(Contact.name.in_(imported))))
        run = ctx.dbsession.get(ImportRun, import_id)
        assert (run.created_count, run.error_count) == (2, 2)
    assert names == ["王经理", "赵总"]  # lisi's customer is not zhang's to change; 12345 is no mobile


def test_a_manager_exports_contacts_with_phones(app):
    customer(app, "上海华信科技有限公司", "zhang")
    app.login(*WANG)
    exported = app.get("/customers/contacts/export?format=csv")
    assert "13800138000" in exported.body.decode("utf-8-sig")
