"""The opportunities import (issue 8, opportunities part 1): Chinese headers map by themselves;
each row's customer is found by its exact name or credit code among those the importer sees,
its pipeline and stage by name; a won or lost row is opened and then closed through the
services, so its history has both stages; a bad row (no title or customer, an unknown, unseen
or ambiguous customer, a bad amount, date or probability, an unknown stage, pipeline or owner,
a lost stage without a reason) is the row's translated error and writes nothing; a user who
may not create opportunities cannot import."""

import datetime as dt
import decimal
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from addons.customers import services as customers
from addons.customers.exceptions import OwnerUnknown
from addons.customers.tests.test_import_custom import figures, run_import, suggested
from addons.customers.tests.test_import_owner import errors_of
from addons.opportunities import pipelines
from addons.opportunities.exceptions import (
    AmountInvalid,
    CloseDateInvalid,
    LostReasonRequired,
    PipelineUnavailable,
    ProbabilityInvalid,
)
from addons.opportunities.imports import (
    OPPORTUNITIES_IMPORT,
    ImportCustomerAmbiguous,
    ImportCustomerUnknown,
    ImportStageUnknown,
    OpportunityRow,
)
from addons.opportunities.models import Opportunity, Pipeline, Stage, StageChange
from core.access.exceptions import PermissionDenied
from core.access.roles import role_by_key, role_permissions, set_role_permissions
from core.customfields import services as custom
from core.i18n import _, localizer_for
from core.models import AuditEntry, User
from core.notifications.models import Notification
from core.users.services import create_user
from tests.core.test_imports import csv_data

from .conftest import WANG, ZHANG, as_user

NEW = "/imports/new/opportunities.opportunities"
CODE = "91330106732188123D"  # a valid unified social credit code
zh = localizer_for("zh_CN").translate


def upload(app, rows, filename="opportunities.csv"):
    data = csv_data(rows) if isinstance(rows, list) else rows
    response = app.post(NEW, {"csrf_token": app.csrf_token()}, upload_files=[("file", filename, data)], status=303)
    return int(re.search(r"/imports/(\d+)/mapping$", response.location).group(1))


def problem(column, message):
    """A schema problem as the errors file words it: the file's column, then the problem."""
    return zh(_("${field}: ${problem}", mapping={"field": column, "problem": zh(message)}))


def admin(ctx):
    return ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())


def by_title(app):
    """``{title: opportunity}`` (detached, loaded)."""
    with app.env.ctx() as ctx:
        found = ctx.dbsession.scalars(select(Opportunity)).all()
        ctx.dbsession.expunge_all()
        return {o.title: o for o in found}


def history(app, opportunity_id):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalars(select(Stage.name).join(StageChange, StageChange.to_stage_id == Stage.id)
                                     .where(StageChange.opportunity_id == opportunity_id)
                                     .order_by(StageChange.at, StageChange.id)).all()


def count(app, model, *where):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def east(app):
    """Customers of 华东大区 (lisi's with a credit code), 大客户流程 for 华东大区, and one of
    华南大区's customers (zhaoliu's), out of 王五's sight."""
    users = app.users
    with app.env.ctx() as ctx:
        users["lisi_customer"] = customers.create_customer(as_user(ctx, users["lisi"]), name="上海华信科技有限公司",
                                                           credit_code=CODE).id
        users["zhao_customer"] = customers.create_customer(as_user(ctx, users["zhao"]), name="广州明远电子有限公司").id
        pipelines.save_pipeline(admin(ctx), name="大客户流程", department_id=users["east"], active=True, stages=[
            {"name": "高层拜访", "probability": 20, "kind": "open"},
            {"name": "商务谈判", "probability": 70, "kind": "open"},
            {"name": "签约", "probability": 100, "kind": "won"},
            {"name": "丢单", "probability": 0, "kind": "lost"}])
    return users


# -- the template and the mapping ----------------------------------------------------------------

def test_the_template_has_the_chinese_headers_and_maps_itself_back(app, catalog):
    app.login(*ZHANG)
    response = app.get(NEW + "/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.body)).active
    header = [cell.value for cell in sheet[1]]
    assert header == [zh(field.label) for field in OPPORTUNITIES_IMPORT.fields]
    assert header[1:] == ["客户", "金额", "预计成交日期", "阶段", zh(_("Pipeline")), "赢率（%）", "负责人",
                          "竞争对手", "意向产品", "描述", "输单原因"]
    assert header[0] == zh(_("Opportunity name"))
    assert [cell.value for cell in sheet[2]][:3] == ["CRM 系统采购", "杭州云帆科技有限公司", "120,000"]  # the example
    import_id = upload(app, response.body, filename="template.xlsx")
    assert suggested(app, import_id) == dict(enumerate(OPPORTUNITIES_IMPORT.field_names))
    report = run_import(app, catalog, import_id, suggested(app, import_id))  # the example row is zhangsan's to import
    assert figures(report) == {"created": 1, "updated": 0, "errors": 0}
    example = by_title(app)["CRM 系统采购"]
    assert (example.amount, example.probability, example.owner_id) == (decimal.Decimal("120000.00"), 30,
                                                                       app.users["zhang"])


def test_the_usual_chinese_headers_map_without_asking(app):
    app.login(*ZHANG)
    headers = ["商机名称", "客户", "金额", "预计成交日期", "阶段", "商机流程", "赢率", "负责人", "竞争对手", "意向产品",
               "描述", "输单原因"]
    import_id = upload(app, [headers, ["CRM 项目", "杭州云帆科技有限公司"] + [""] * 10])
    assert suggested(app, import_id) == dict(enumerate(
        ["title", "customer", "amount", "expected_close", "stage", "pipeline", "probability", "owner", "competitor",
         "products", "description", "lost_reason"]))


# -- a good file ---------------------------------------------------------------------------------

def test_a_good_file_creates_each_opportunity_through_the_services(app, catalog, east):
    users = east
    with app.env.ctx() as ctx:
        size = custom.save_field(ctx, "opportunities_opportunity", label="项目规模", kind="select",
                                 choices="大型\n中小型").name
    app.login(*WANG)
    header = ["商机名称", "客户", "金额", "预计成交日期", "阶段", "商机流程", "赢率", "负责人", "竞争对手", "描述",
              "输单原因", "项目规模"]
    import_id = upload(app, [header,
                             ["云帆 CRM", "杭州云帆科技有限公司", "1,200.50", "2027/3/5", *[""] * 8],
                             ["华信数据平台", CODE.lower(), "¥80,000", "2027-01-31", "方案报价", "", "65%", "张三",
                              "销售易", "二期", "", "大型"],
                             ["华信维保", "上海华信科技有限公司", "30000", "", "赢单", "", "", "lisi", "", "", "", ""],
                             ["云帆培训", "杭州云帆科技有限公司", "5000", "", "输单", "", "", "", "纷享销客", "",
                              "价格偏高", ""],
                             ["华信集团采购", "上海华信科技有限公司", "2,000,000", "2027-06-30", "商务谈判",
                              "大客户流程", *[""] * 6]])
    assert suggested(app, import_id)[11] == size
    report = run_import(app, catalog, import_id, suggested(app, import_id))
    assert figures(report) == {"created": 5, "updated": 0, "errors": 0}
    found = by_title(app)
    with app.env.ctx() as ctx:
        stage = {(s.pipeline_id, s.name): s.id for s in ctx.dbsession.scalars(select(Stage))}
        default, big = (ctx.dbsession.scalars(select(Pipeline.id).where(Pipeline.name == name)).one()
                        for name in ("默认商机流程", "大客户流程"))
        values = custom.values_for(ctx, Opportunity, [found["华信数据平台"].id])

    yunfan = found["云帆 CRM"]
    assert (yunfan.customer_id, yunfan.amount, yunfan.expected_close, yunfan.stage_id, yunfan.probability,
            yunfan.owner_id, yunfan.status) == (users["customer"], decimal.Decimal("1200.50"), dt.date(2027, 3, 5),
                                                stage[default, "初步接洽"], 10, users["wang"], "open")
    data = found["华信数据平台"]  # by credit code (any case), in a later stage, given to someone else
    assert (data.customer_id, data.amount, data.stage_id, data.probability, data.owner_id, data.competitor,
            data.description) == (users["lisi_customer"], decimal.Decimal("80000.00"), stage[default, "方案报价"], 65,
                                  users["zhang"], "销售易", "二期")
    assert values[data.id] == {size: "大型"}
    assert history(app, data.id) == ["方案报价"]

    won = found["华信维保"]  # opened, then won: both stages in its history
    assert (won.status, won.probability, won.owner_id, won.closed_at is not None) == ("won", 100, users["lisi"], True)
    assert history(app, won.id) == ["初步接洽", "赢单"]
    lost = found["云帆培训"]
    assert (lost.status, lost.lost_reason, lost.competitor) == ("lost", "价格偏高", "纷享销客")
    assert history(app, lost.id) == ["初步接洽", "输单"]

    group = found["华信集团采购"]
    assert (group.pipeline_id, group.stage_id, group.probability) == (big, stage[big, "商务谈判"], 70)

    assert all(o.scored_at is not None and o.score > 0 for o in found.values() if o.status == "open")
    assert count(app, AuditEntry, AuditEntry.model == "opportunities_opportunity", AuditEntry.action == "create",
                 AuditEntry.user_id == users["wang"]) == 5
    with app.env.ctx() as ctx:  # lisi hears that her opportunity was won (王五 acted: he is not told)
        told = ctx.dbsession.scalars(select(Notification.kind).where(Notification.user_id == users["lisi"])).all()
    assert "opportunities.won" in told


# -- bad rows ------------------------------------------------------------------------------------

def test_each_bad_row_is_a_translated_error_and_writes_nothing(app, catalog, east):
    users = east
    with app.env.ctx() as ctx:  # a customer whose name is another's credit code: that cell names two
        customers.create_customer(as_user(ctx, users["zhang"]), name=CODE)
    app.login(*WANG)
    header = ["商机名称", "客户", "金额", "预计成交日期", "阶段", "商机流程", "赢率", "负责人", "输单原因"]

    def row(title="项目", customer="杭州云帆科技有限公司", amount="", close="", stage="", pipeline="", probability="",
            owner="", reason=""):
        return [title, customer, amount, close, stage, pipeline, probability, owner, reason]

    import_id = upload(app, [header,
                             row(title=""),                                  # 2
                             row(customer=""),                               # 3
                             row(amount="-5"),                               # 4
                             row(amount="很多"),                             # 5
                             row(close="2026-02-30"),                        # 6
                             row(close="31.12.2026"),                        # 7
                             row(probability="120"),                         # 8
                             row(customer="不存在的公司"),                   # 9
                             row(customer="广州明远电子有限公司"),           # 10 赵六's: 王五 does not see it
                             row(customer=CODE),                             # 11 a name and a credit code
                             row(stage="签约"),                              # 12 a stage of 大客户流程
                             row(pipeline="不存在的流程"),                   # 13
                             row(stage="输单"),                              # 14 no reason
                             row(owner="赵大"),                              # 15
                             row(title="好的商机", stage="需求确认")])       # 16 good
    preview = app.post_form(f"/imports/{import_id}/mapping", {f"col-{i}": f for i, f in
                                                              suggested(app, import_id).items()}, status=303).follow()
    assert 'data-invalid="7"' in preview.text  # what the schema refuses shows before the run
    report = run_import(app, catalog, import_id, suggested(app, import_id))
    assert figures(report) == {"created": 1, "updated": 0, "errors": 14}
    reasons = errors_of(app, import_id)
    assert reasons == {
        "2": problem("商机名称", _("is required")),
        "3": problem("客户", _("is required")),
        "4": problem("金额", AmountInvalid().translation_string),
        "5": problem("金额", AmountInvalid().translation_string),
        "6": problem("预计成交日期", CloseDateInvalid().translation_string),
        "7": problem("预计成交日期", CloseDateInvalid().translation_string),
        "8": problem("赢率", ProbabilityInvalid().translation_string),
        "9": zh(ImportCustomerUnknown(name="不存在的公司").translation_string),
        "10": zh(ImportCustomerUnknown(name="广州明远电子有限公司").translation_string),
        "11": zh(ImportCustomerAmbiguous(name=CODE, count=2).translation_string),
        "12": zh(ImportStageUnknown(stage="签约", pipeline="默认商机流程",
                                    stages="初步接洽、需求确认、方案报价、谈判审核、赢单、输单").translation_string),
        "13": zh(PipelineUnavailable().translation_string),
        "14": zh(LostReasonRequired().translation_string),
        "15": zh(OwnerUnknown(name="赵大").translation_string),
    }
    assert all(reason and "${" not in reason for reason in reasons.values())
    assert list(by_title(app)) == ["好的商机"]  # nothing of the refused rows
    assert count(app, StageChange) == 1
    assert count(app, AuditEntry, AuditEntry.model == "opportunities_opportunity", AuditEntry.action != "import") == 1


# -- permissions ---------------------------------------------------------------------------------

def test_a_user_who_may_not_create_opportunities_cannot_import(app):
    with app.env.ctx() as ctx:
        service_id = create_user(ctx, "kefu", "Service-Desk-55", roles=["service"],
                                 department_id=app.users["east"]).id
    app.login("kefu", "Service-Desk-55")
    app.get(NEW, status=403)
    row = OpportunityRow(title="项目", customer="杭州云帆科技有限公司").model_dump()
    with app.env.ctx() as ctx, pytest.raises(PermissionDenied):  # refused before the customer lookup tells anything
        OPPORTUNITIES_IMPORT.create(as_user(ctx, service_id), row)
    assert count(app, Opportunity) == 0


def test_naming_someone_else_as_owner_needs_the_write_permission(app):
    users = app.users
    with app.env.ctx() as ctx:
        sales = role_by_key(ctx, "sales")
        set_role_permissions(admin(ctx), sales, role_permissions(ctx, sales) - {"opportunities.opportunity:write"})
    with app.env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        with pytest.raises(PermissionDenied):
            OPPORTUNITIES_IMPORT.create(zhang, OpportunityRow(title="给李四", customer="杭州云帆科技有限公司",
                                                              owner="lisi").model_dump())
        mine = OPPORTUNITIES_IMPORT.create(zhang, OpportunityRow(title="我的", customer="杭州云帆科技有限公司",
                                                                 owner="zhangsan").model_dump())
        assert mine.owner_id == users["zhang"]


# -- the cells -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "amount"), [("1,200.50", "1200.50"), ("¥80,000", "80000.00"),
                                              ("￥5 000元", "5000.00"), ("2000000", "2000000.00"), ("", None)])
def test_an_amount_takes_separators_and_currency(cell, amount):
    expected = decimal.Decimal(amount) if amount is not None else None
    assert OpportunityRow(title="x", customer="y", amount=cell).amount == expected


@pytest.mark.parametrize("cell", ["-1", "abc", "1e20", "NaN", "5万"])
def test_what_is_no_amount_is_refused(cell):
    with pytest.raises(ValueError, match="amount"):
        OpportunityRow(title="x", customer="y", amount=cell)


@pytest.mark.parametrize(("cell", "day"), [("2026-12-31", dt.date(2026, 12, 31)), ("2026/3/5", dt.date(2026, 3, 5)),
                                           ("", None)])
def test_a_close_date_is_year_month_day(cell, day):
    assert OpportunityRow(title="x", customer="y", expected_close=cell).expected_close == day


@pytest.mark.parametrize("cell", ["2026-02-30", "2026-13-01", "20261231", "31/12/2026", "next week",
                                  "2026-12-31 10:00"])
def test_an_impossible_or_other_date_is_refused(cell):
    with pytest.raises(ValueError, match="close date"):
        OpportunityRow(title="x", customer="y", expected_close=cell)


@pytest.mark.parametrize(("cell", "probability"), [("60", 60), ("60%", 60), ("0", 0), ("100", 100), ("", None)])
def test_a_probability_is_a_whole_percentage(cell, probability):
    assert OpportunityRow(title="x", customer="y", probability=cell).probability == probability


@pytest.mark.parametrize("cell", ["101", "-5", "0.6", "高"])
def test_another_probability_is_refused(cell):
    with pytest.raises(ValueError, match="probability"):
        OpportunityRow(title="x", customer="y", probability=cell)
