"""Custom fields in the customers import: a column per active field, recognised by its label,
in the template too; each cell checked like the form's (a bad one is the row's translated
error and the row is not written); an update by key changes the values the row fills and
leaves the others."""

import csv
import datetime as dt
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from addons.customers import services
from addons.customers.models import Customer
from core.customfields import services as custom
from core.customfields.models import CustomValue
from core.i18n import _, localizer_for
from core.jobs import worker
from tests.core.test_imports import selected

from .conftest import WANG, ZHANG

NEW = "/imports/new/customers.customers"
zh = localizer_for("zh_CN").translate


def define(app, **fields):
    with app.env.ctx() as ctx:
        return custom.save_field(ctx, "customers_customer", **fields).name


def upload(app, rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    response = app.post(NEW, {"csrf_token": app.csrf_token()},
                        upload_files=[("file", "customers.csv", buffer.getvalue().encode("utf-8"))], status=303)
    return int(re.search(r"/imports/(\d+)/mapping$", response.location).group(1))


def suggested(app, import_id):
    """``{column index: field}`` as the mapping page suggests it."""
    return selected(app.get(f"/imports/{import_id}/mapping"))


def run_import(app, catalog, import_id, mapping, mode="create", key_field=""):
    app.post_form(f"/imports/{import_id}/mapping", {f"col-{i}": field for i, field in mapping.items()}, status=303)
    app.post_form(f"/imports/{import_id}/preview", {"mode": mode, "key_field": key_field}, status=303)
    worker.Worker(app.env.engine, catalog, app.env.settings).run(until_idle=True)
    return app.get(f"/imports/{import_id}/progress")


def figures(report):
    return {kind: int(re.search(rf'id="import-{kind}" data-count="(\d+)"', report.text).group(1))
            for kind in ("created", "updated", "errors")}


def values_by_name(app):
    with app.env.ctx() as ctx:
        customers = {c.id: c.name for c in ctx.dbsession.scalars(select(Customer))}
        values = custom.values_for(ctx, Customer, list(customers))
        return {name: values[customer_id] for customer_id, name in customers.items()}


def test_custom_columns_map_by_label_and_their_values_are_imported(app, catalog):
    budget = define(app, label="年采购额", kind="number")
    grade = define(app, label="合作等级", kind="select", choices="战略\n普通")
    signed = define(app, label="签约日", kind="date")
    app.login(*ZHANG)
    import_id = upload(app, [["客户名称", "年采购额", "合作等级", signed, "标签"],
                             ["上海华信科技有限公司", "1,200,000", "战略", "2024-05-31", "重点, 华东"],
                             ["杭州天成贸易有限公司", "", "普通", "", ""]])
    mapping = suggested(app, import_id)
    assert mapping == {0: "name", 1: budget, 2: grade, 3: signed, 4: "tags"}  # by label, or by name
    preview = app.post_form(f"/imports/{import_id}/mapping", {f"col-{i}": f for i, f in mapping.items()},
                            status=303).follow()
    assert 'id="import-preview-warning"' not in preview.text
    app.post_form(f"/imports/{import_id}/preview", {"mode": "create", "key_field": ""}, status=303)
    worker.Worker(app.env.engine, catalog, app.env.settings).run(until_idle=True)
    assert figures(app.get(f"/imports/{import_id}/progress")) == {"created": 2, "updated": 0, "errors": 0}
    assert values_by_name(app) == {
        "上海华信科技有限公司": {budget: 1200000, grade: "战略", signed: dt.date(2024, 5, 31)},
        "杭州天成贸易有限公司": {grade: "普通"}}


def test_a_row_with_a_bad_custom_value_is_reported_and_not_written(app, catalog):
    budget = define(app, label="年采购额", kind="number")
    grade = define(app, label="合作等级", kind="select", choices="战略\n普通")
    app.login(*ZHANG)
    import_id = upload(app, [["客户名称", "年采购额", "合作等级"],
                             ["上海华信科技有限公司", "很多", "战略"],
                             ["杭州天成贸易有限公司", "500", "钻石"],
                             ["北京正阳科技有限公司", "500", "普通"]])
    preview = app.post_form(f"/imports/{import_id}/mapping", {"col-0": "name", "col-1": budget, "col-2": grade},
                            status=303).follow()
    assert 'data-invalid="2"' in preview.text  # the preview shows what the run will refuse
    assert zh(_("enter a number")) in preview.text
    report = run_import(app, catalog, import_id, {0: "name", 1: budget, 2: grade})
    assert figures(report) == {"created": 1, "updated": 0, "errors": 2}
    errors = list(csv.reader(io.StringIO(app.get(f"/imports/{import_id}/errors.csv").body.decode("utf-8-sig"))))
    reasons = {row[0]: row[1] for row in errors[1:]}
    assert set(reasons) == {"2", "3"}
    not_a_number = zh(_("enter a number"))
    assert reasons["2"] == zh(_("${field}: ${problem}", mapping={"field": "年采购额", "problem": not_a_number}))
    assert zh(_("choose one of the listed options")) in reasons["3"] and "合作等级" in reasons["3"]
    assert values_by_name(app) == {"北京正阳科技有限公司": {budget: 500, grade: "普通"}}


def test_an_update_by_key_changes_the_custom_values_the_row_fills(app, catalog):
    budget = define(app, label="年采购额", kind="number")
    grade = define(app, label="合作等级", kind="select", choices="战略\n普通")
    with app.env.ctx() as ctx:
        existing = services.create_customer(ctx, name="上海华信科技有限公司", owner_id=app.users["zhang"])
        custom.set_values(ctx, existing, {budget: "100", grade: "普通"})
    app.login(*ZHANG)
    import_id = upload(app, [["客户名称", "年采购额", "合作等级"],
                             ["上海华信科技有限公司", "250", ""],
                             ["杭州天成贸易有限公司", "", "战略"]])
    report = run_import(app, catalog, import_id, {0: "name", 1: budget, 2: grade}, mode="update", key_field="name")
    assert figures(report) == {"created": 1, "updated": 1, "errors": 0}
    assert values_by_name(app) == {"上海华信科技有限公司": {budget: 250, grade: "普通"},
                                   "杭州天成贸易有限公司": {grade: "战略"}}


def test_a_required_custom_field_must_be_mapped_and_filled(app, catalog):
    region = define(app, label="大区", kind="text", required=True)
    app.login(*ZHANG)
    import_id = upload(app, [["客户名称", "大区"], ["上海华信科技有限公司", "华东"], ["杭州天成贸易有限公司", ""]])
    unmapped = app.post_form(f"/imports/{import_id}/mapping", {"col-0": "name"}, status=400)
    assert zh(_("Map a column to “${field}”: it is required.", mapping={"field": "大区"})) in unmapped.text
    report = run_import(app, catalog, import_id, {0: "name", 1: region})
    assert figures(report) == {"created": 1, "updated": 0, "errors": 1}
    assert values_by_name(app) == {"上海华信科技有限公司": {region: "华东"}}


def test_the_template_has_the_custom_columns_and_not_the_retired_ones(app):
    define(app, label="年采购额", kind="number")
    define(app, label="大区", kind="text", required=True)
    define(app, label="旧字段", kind="text", active=False)
    app.login(*ZHANG)
    sheet = load_workbook(io.BytesIO(app.get(f"{NEW}/template.xlsx").body)).active
    header = [cell.value for cell in sheet[1]]
    assert header[-2:] == ["年采购额", "大区"] and "旧字段" not in header
    assert header[0] == zh(_("Customer name"))
    assert sheet[1][len(header) - 1].font.bold and not sheet[1][len(header) - 2].font.bold


def test_the_export_carries_the_tags_and_a_chosen_custom_column(app):
    """What the import takes, the export gives back: the list's columns, custom ones included."""
    budget = define(app, label="年采购额", kind="number")
    with app.env.ctx() as ctx:
        from addons.customers import tags

        exported = services.create_customer(ctx, name="上海华信科技有限公司", owner_id=app.users["zhang"])
        tags.set_customer_tags(ctx, exported.id, ["重点", "华东"])
        custom.set_values(ctx, exported, {budget: "1200000"})
    app.login(*WANG)  # a manager may export
    app.post_form("/customers/settings", {"columns": ["name", "tags", budget]}, status=303)
    lines = app.get("/customers/export?format=csv").body.decode("utf-8-sig").splitlines()
    assert "年采购额" in lines[0]
    assert "上海华信科技有限公司" in lines[1] and "1200000" in lines[1] and "华东, 重点" in lines[1]


def test_a_field_retired_after_the_mapping_is_simply_not_imported(app, catalog):
    budget = define(app, label="年采购额", kind="number")
    region = define(app, label="大区", kind="text")
    app.login(*ZHANG)
    import_id = upload(app, [["客户名称", "年采购额", "大区"], ["上海华信科技有限公司", "100", "华东"]])
    app.post_form(f"/imports/{import_id}/mapping", {"col-0": "name", "col-1": budget, "col-2": region}, status=303)
    with app.env.ctx() as ctx:
        custom.save_field(ctx, "customers_customer", int(region.removeprefix("cf_")), label="大区", kind="text",
                          active=False)
    preview = app.get(f"/imports/{import_id}/preview")
    assert 'data-valid="true"' in preview.text and "大区" not in preview.text.split('id="import-preview"')[1]
    app.post_form(f"/imports/{import_id}/preview", {"mode": "create", "key_field": ""}, status=303)
    worker.Worker(app.env.engine, catalog, app.env.settings).run(until_idle=True)
    assert figures(app.get(f"/imports/{import_id}/progress"))["created"] == 1
    with app.env.ctx() as ctx:
        customer_id = ctx.dbsession.scalar(select(Customer.id))
        assert custom.values_for(ctx, Customer, [customer_id])[customer_id] == {budget: 100}
        assert ctx.dbsession.scalar(select(func.count()).select_from(CustomValue)) == 1
