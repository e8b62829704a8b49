"""The leads import (issue 8 parts 1–4): Chinese headers map by themselves; each row's lead goes
to its 负责人, into its 线索池, to whom the assignment rules pick, or to the importer — created
through the service, audited; a bad row (no name, bad mobile, budget, list label, owner, owner
and pool, 查重 against customers and leads) is the row's translated error and writes nothing;
a user who may not create leads cannot import."""

import decimal
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from addons.customers import services as customers
from addons.customers.choices import KINDS
from addons.customers.duplicates import CUSTOMER_KIND, REASONS, mask_name
from addons.customers.exceptions import MobileInvalid, OwnerUnknown, SourceUnavailable
from addons.customers.tests.test_import_custom import figures, run_import, suggested
from addons.customers.tests.test_import_owner import errors_of
from addons.leads import assignment, pool, services
from addons.leads.duplicates import LEAD_KIND
from addons.leads.exceptions import BudgetInvalid, LeadPoolUnavailable, StatusUnknown
from addons.leads.imports import LEADS_IMPORT, LeadDuplicate, LeadOwnerAndPool, LeadRow
from addons.leads.models import Lead, LeadMove, LeadPool
from core.access.exceptions import PermissionDenied
from core.customfields import services as custom
from core.i18n import _, localizer_for
from core.models import AuditEntry, User
from core.notifications.models import Notification
from core.users.services import create_user
from tests.core.test_imports import csv_data

from .conftest import WANG, ZHANG, as_user

NEW = "/imports/new/leads.leads"
zh = localizer_for("zh_CN").translate


def upload(app, rows, filename="leads.csv"):
    data = csv_data(rows) if isinstance(rows, list) else rows
    response = app.post(NEW, {"csrf_token": app.csrf_token()}, upload_files=[("file", filename, data)], status=303)
    return int(re.search(r"/imports/(\d+)/mapping$", response.location).group(1))


def leads_by_name(app):
    """``{name: (owner username, pool name, status)}``."""
    with app.env.ctx() as ctx:
        rows = ctx.dbsession.execute(select(Lead.name, User.username, LeadPool.name, Lead.status)
                                     .outerjoin(User, User.id == Lead.owner_id)
                                     .outerjoin(LeadPool, LeadPool.id == Lead.pool_id))
        return {name: (owner, pool_name, status) for name, owner, pool_name, status in rows}


def problem(column, message):
    """A schema problem as the errors file words it: the file's column, then the problem."""
    return zh(_("${field}: ${problem}", mapping={"field": column, "problem": zh(message)}))


@pytest.fixture
def east_pool(app):
    with app.env.ctx() as ctx:
        return pool.save_pool(ctx, name="华东线索池", department_id=app.users["east"]).id


# -- the template and the mapping ----------------------------------------------------------------

def test_the_template_has_the_chinese_headers_and_maps_itself_back(app):
    app.login(*ZHANG)
    response = app.get(NEW + "/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.body)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["线索名称", "联系人", "手机"]
    assert {"预计预算", "状态", "负责人", "线索池"} <= set(header)
    assert header == [zh(field.label) for field in LEADS_IMPORT.fields]
    assert sheet["A2"].value == "杭州云帆科技有限公司"  # the example row
    import_id = upload(app, response.body, filename="template.xlsx")
    assert suggested(app, import_id) == dict(enumerate(LEADS_IMPORT.field_names))


def test_the_usual_chinese_headers_map_without_asking(app):
    app.login(*ZHANG)
    headers = ["线索名称", "联系人", "手机", "电话", "邮箱", "微信", "地址", "省份", "城市", "来源", "行业", "级别",
               "需求", "预算", "状态", "负责人", "线索池"]
    import_id = upload(app, [headers, ["杭州云帆科技有限公司"] + [""] * 16])
    assert suggested(app, import_id) == dict(enumerate(
        ["name", "contact_name", "mobile", "phone", "email", "wechat", "address", "province", "city", "source",
         "industry", "level", "requirement", "budget", "status", "owner", "pool"]))


# -- a good file ---------------------------------------------------------------------------------

def test_a_good_file_gives_each_lead_its_owner_pool_or_rule_and_is_audited(app, catalog, east_pool):
    users = app.users
    with app.env.ctx() as ctx:
        assignment.save_rule(ctx, name="展会线索给李四", strategy="user", user_id=users["lisi"], priority=10,
                             conditions=[{"field": "source", "op": "eq", "value": "展会"}])
        first_pool = pool.pools_for(as_user(ctx, users["wang"]))[0].name
    app.login(*WANG)
    header = ["线索名称", "联系人", "手机", "邮箱", "来源", "级别", "预算", "状态", "负责人", "线索池"]
    import_id = upload(app, [header,
                             ["上海华信科技有限公司", "陈经理", "138 0013 8001", "chen@huaxin.cn", "展会", "A（重要）",
                              "1,200.50", "", "", ""],
                             ["杭州天成贸易有限公司", "", "", "", "官网", "b", "", "跟进中", "", ""],
                             ["北京正阳科技有限公司", "", "", "", "", "", "", "", "张三", ""],
                             ["深圳海川物流有限公司", "", "", "", "", "", "", "", "", "华东线索池"],
                             ["广州明远电子有限公司", "", "", "", "", "", "80000", "qualified", "wangwu", ""]])
    report = run_import(app, catalog, import_id, suggested(app, import_id))
    assert figures(report) == {"created": 5, "updated": 0, "errors": 0}
    assert leads_by_name(app) == {
        "上海华信科技有限公司": ("lisi", first_pool, "new"),  # the rule took it out of the pool
        "杭州天成贸易有限公司": (None, first_pool, "contacting"),  # no rule takes it: it waits in the pool
        "北京正阳科技有限公司": ("zhangsan", None, "new"),
        "深圳海川物流有限公司": (None, "华东线索池", "new"),
        "广州明远电子有限公司": ("wangwu", None, "qualified"),
    }
    with app.env.ctx() as ctx:
        huaxin = ctx.dbsession.scalars(select(Lead).where(Lead.name == "上海华信科技有限公司")).one()
        assert (huaxin.mobile, huaxin.source, huaxin.level, huaxin.budget) == (
            "13800138001", "展会", "A", decimal.Decimal("1200.50"))
        assert ctx.dbsession.scalars(select(Lead.level).where(Lead.name == "杭州天成贸易有限公司")).one() == "B"
        created = ctx.dbsession.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.model == "leads_lead", AuditEntry.action == "create", AuditEntry.user_id == users["wang"]))
        assert created == 5
        move = ctx.dbsession.scalars(select(LeadMove).where(LeadMove.lead_id == huaxin.id)).one()
        assert (move.action, move.reason, move.user_id) == ("assigned", "展会线索给李四", users["wang"])
        by_rule = ctx.dbsession.scalars(select(AuditEntry).where(
            AuditEntry.model == "leads_lead", AuditEntry.record_id == str(huaxin.id), AuditEntry.action == "update"))
        assert any("展会线索给李四" in str(entry.changes) for entry in by_rule)
        told = ctx.dbsession.scalars(select(Notification.kind).where(Notification.user_id == users["lisi"])).all()
        assert "leads.assigned" in told


def test_without_active_rules_a_row_without_owner_or_pool_is_the_importers(app, catalog):
    with app.env.ctx() as ctx:
        assignment.save_rule(ctx, name="停用的规则", strategy="user", user_id=app.users["lisi"], active=False)
    app.login(*ZHANG)
    import_id = upload(app, [["线索名称", "负责人"], ["上海华信科技有限公司", ""],
                             ["杭州天成贸易有限公司", "zhangsan"]])
    report = run_import(app, catalog, import_id, {0: "name", 1: "owner"})
    assert figures(report) == {"created": 2, "updated": 0, "errors": 0}
    assert leads_by_name(app) == {"上海华信科技有限公司": ("zhangsan", None, "new"),
                                  "杭州天成贸易有限公司": ("zhangsan", None, "new")}


def test_custom_columns_are_imported_and_a_rule_may_look_at_them(app, catalog):
    with app.env.ctx() as ctx:
        size = custom.save_field(ctx, "leads_lead", label="企业规模", kind="select", choices="大型\n中小型").name
        assignment.save_rule(ctx, name="大型企业给赵六", strategy="user", user_id=app.users["zhao"],
                             conditions=[{"field": size, "op": "eq", "value": "大型"}])
    app.login(*ZHANG)
    import_id = upload(app, [["线索名称", "企业规模"], ["阿尔法科技有限公司", "大型"], ["贝塔贸易有限公司", "中小型"],
                             ["伽马物流有限公司", "巨型"]])
    assert suggested(app, import_id) == {0: "name", 1: size}
    report = run_import(app, catalog, import_id, {0: "name", 1: size})
    assert figures(report) == {"created": 2, "updated": 0, "errors": 1}
    assert zh(_("choose one of the listed options")) in errors_of(app, import_id)["4"]
    leads = leads_by_name(app)
    assert leads["阿尔法科技有限公司"][0] == "zhaoliu"
    assert leads["贝塔贸易有限公司"][:2] == (None, "公共线索池")
    with app.env.ctx() as ctx:
        ids = dict(ctx.dbsession.execute(select(Lead.name, Lead.id)).all())
        values = custom.values_for(ctx, Lead, list(ids.values()))
        assert values[ids["阿尔法科技有限公司"]] == {size: "大型"}
        assert values[ids["贝塔贸易有限公司"]] == {size: "中小型"}


# -- bad rows ------------------------------------------------------------------------------------

def test_each_bad_row_is_a_translated_error_and_writes_nothing(app, catalog, east_pool):
    users = app.users
    with app.env.ctx() as ctx:
        theirs = customers.create_customer(as_user(ctx, users["zhao"]), name="广州明远电子有限公司")
        customers.add_contact(as_user(ctx, users["zhao"]), theirs.id, name="刘经理", mobile="13900000001")
        services.create_lead(as_user(ctx, users["lisi"]), name="南京瑞丰机械有限公司", mobile="13700000002",
                             email="li@ruifeng.cn")
    app.login(*WANG)
    header = ["线索名称", "手机", "邮箱", "预算", "来源", "负责人", "线索池", "状态"]

    def row(name, mobile="", email="", budget="", source="", owner="", pool_name="", status=""):
        return [name, mobile, email, budget, source, owner, pool_name, status]

    import_id = upload(app, [header,
                             row("", mobile="13800000002"),                       # 2 no name
                             row("苏州金桥科技有限公司", mobile="12345"),           # 3
                             row("无锡瑞丰电子有限公司", budget="-5"),              # 4
                             row("常州鼎盛贸易有限公司", budget="很多"),            # 5
                             row("宁波恒通物流有限公司", source="地推"),            # 6
                             row("温州远航机械有限公司", owner="赵大"),             # 7
                             row("嘉兴新源建材有限公司", owner="张三", pool_name="华东线索池"),  # 8
                             row("广州明远电子有限公司"),                          # 9 a customer's name
                             row("绍兴博远食品有限公司", mobile="13700000002"),     # 10 a lead's mobile
                             row("湖州中科环保有限公司", email="LI@ruifeng.cn"),    # 11 a lead's e-mail
                             row("台州宏达新材料有限公司", mobile="13900000001"),   # 12 a customer contact's mobile
                             row("金华嘉禾餐饮管理有限公司", status="已转化"),      # 13
                             row("丽水安泰教育咨询有限公司", pool_name="不存在的池"),  # 14
                             row("舟山星河科技有限公司"),                          # 15 good
                             row("舟山星河科技有限公司")])                         # 16 the row above
    preview = app.post_form(f"/imports/{import_id}/mapping", {f"col-{i}": f for i, f in
                                                              suggested(app, import_id).items()}, status=303).follow()
    assert 'data-invalid="5"' in preview.text  # what the schema refuses shows before the run
    report = run_import(app, catalog, import_id, suggested(app, import_id))
    assert figures(report) == {"created": 1, "updated": 0, "errors": 14}
    reasons = errors_of(app, import_id)
    budget = BudgetInvalid().translation_string
    assert reasons == {
        "2": problem("线索名称", _("is required")),
        "3": problem("手机", MobileInvalid(number="12345").translation_string),
        "4": problem("预算", budget),
        "5": problem("预算", budget),
        "6": zh(SourceUnavailable(value="地推", field=KINDS["source"]).translation_string),
        "7": zh(OwnerUnknown(name="赵大").translation_string),
        "8": zh(LeadOwnerAndPool().translation_string),
        "9": zh(LeadDuplicate(kind=CUSTOMER_KIND, name=mask_name("广州明远电子有限公司"), reason=REASONS["name"],
                              owner="赵六").translation_string),  # outside 王五's scope: masked
        "10": zh(LeadDuplicate(kind=LEAD_KIND, name="南京瑞丰机械有限公司", reason=REASONS["mobile"],
                               owner="李四").translation_string),
        "11": zh(LeadDuplicate(kind=LEAD_KIND, name="南京瑞丰机械有限公司", reason=REASONS["email"],
                               owner="李四").translation_string),
        "12": zh(LeadDuplicate(kind=CUSTOMER_KIND, name=mask_name("广州明远电子有限公司"), reason=REASONS["mobile"],
                               owner="赵六").translation_string),
        "13": problem("状态", StatusUnknown(status="已转化").translation_string),
        "14": zh(LeadPoolUnavailable().translation_string),
        "16": zh(LeadDuplicate(kind=LEAD_KIND, name="舟山星河科技有限公司", reason=REASONS["name"],
                               owner="王五").translation_string),
    }
    assert all(reason and "${" not in reason for reason in reasons.values())
    assert set(leads_by_name(app)) == {"南京瑞丰机械有限公司", "舟山星河科技有限公司"}  # nothing of the refused rows
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.model == "leads_lead", AuditEntry.action != "import", AuditEntry.user_id == users["wang"])) == 1


def test_a_user_who_may_not_create_leads_cannot_import(app):
    with app.env.ctx() as ctx:
        service = create_user(ctx, "kefu", "Service-Desk-55", roles=["service"], department_id=app.users["east"])
        service_id = service.id
    app.login("kefu", "Service-Desk-55")
    app.get(NEW, status=403)
    with app.env.ctx() as ctx:  # the service refuses too, before 查重 tells anything
        with pytest.raises(PermissionDenied):
            LEADS_IMPORT.create(as_user(ctx, service_id), LeadRow(name="上海华信科技有限公司").model_dump())
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 0


@pytest.mark.parametrize(("cell", "status"), [("新建", "new"), ("contacting", "contacting"), ("培育中", "nurture"),
                                              ("Qualified", "qualified"), ("无效", "disqualified")])
def test_a_status_is_named_by_its_value_label_or_usual_word(cell, status):
    assert LeadRow(name="x", status=cell).status == status


def test_a_budget_takes_separators_and_refuses_what_is_no_amount():
    assert LeadRow(name="x", budget="¥1,200.50").budget == decimal.Decimal("1200.50")
    assert LeadRow(name="x", budget="").budget is None
    for bad in ("-1", "abc", "1e20", "NaN"):
        with pytest.raises(ValueError, match="budget"):
            LeadRow(name="x", budget=bad)
