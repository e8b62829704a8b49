"""The sales forecast page (S4–S5): the hand-computed figures of test_reports' fixture in its
tables and charts, each table exported as CSV and XLSX with the same numbers, the year and
pipeline choices, who may see it, and a bounded number of queries as owners and targets grow."""

import csv
import decimal
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from addons.customers import services as customers
from addons.customers.tests.test_pages import login, zh
from addons.opportunities import reports, services
from addons.opportunities.models import Stage
from core.i18n import _
from core.models import User
from core.testing.queries import count_queries

from .conftest import LISI, WANG, ZHANG, as_user
from .test_reports import fixture  # noqa: F401 (the hand-computed fixture, on this module's ``company``)

ADMIN = ("admin", "Kehu-Test-Pass-42")
URL = "/opportunities/forecast"
D = decimal.Decimal


@pytest.fixture
def company(app):
    """test_reports' ``fixture`` built on the web app's database."""
    return app.env, app.users


def cells(page, table, *classes):
    """``{row key: (cell texts)}`` of one table, keyed by the row's ``data-*`` attribute."""
    out = {}
    for tr in page.html.select(f"#{table}-table tbody tr"):
        key = next((value for name, value in tr.attrs.items() if name.startswith("data-")), None)
        out[key] = tuple(tr.select_one(f".{cls}").text.strip() for cls in classes)
    return out


def chart(page, element_id):
    return json.loads(page.html.select_one(f"#{element_id}")["data-chart"])


def read_csv(response):
    return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))


def read_xlsx(response):
    sheet = load_workbook(io.BytesIO(response.body), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def this_month(app):
    with app.env.ctx() as ctx:
        return ctx.now.strftime("%Y-%m")


# ---------------------------------------------------------------- the figures


def test_the_page_shows_the_hand_computed_forecast(app, fixture):  # noqa: F811
    _env, users, _year, _pipeline = fixture
    login(app, WANG)
    page = app.get(URL)
    assert cells(page, "forecast", "cell-amount", "cell-weighted", "cell-historical") == {
        "2027-01": ("¥150,000.00", "¥65,000.00", "¥120,000.00"),
        "2027-02": ("¥200,000.00", "¥160,000.00", "¥160,000.00"),
        "": ("¥10,000.00", "¥3,000.00", "¥3,000.00"),
    }
    assert page.html.select_one("#total-amount").text == "¥360,000.00"
    assert page.html.select_one("#total-weighted").text == "¥228,000.00"
    assert page.html.select_one("#total-historical").text == "¥283,000.00"
    assert cells(page, "owners", "cell-amount", "cell-weighted") == {str(users["zhang"]): ("¥360,000.00",
                                                                                         "¥228,000.00")}
    assert [tr.td.text for tr in page.html.select("#departments-table tbody tr")] == ["华东大区"]
    assert cells(page, "targets", "cell-target", "cell-won", "cell-reached") == {
        str(users["zhang"]): ("¥5,000.00", "¥4,000.00", "80.0%")}
    stage = dict(_stages(app))
    by_stage = cells(page, "stages", "cell-reached", "cell-closed", "cell-won", "cell-rate")
    assert by_stage[str(stage["方案报价"])] == ("6", "5", "4", "80.0%")
    assert by_stage[str(stage["初步接洽"])][0] == "6" and by_stage[str(stage["赢单"])][0] == "4"
    assert page.html.select_one("#average-cycle").text.strip() != "—"
    # the charts carry the same numbers; ECharts and the drawing script are loaded
    forecast = chart(page, "forecast-chart")
    assert forecast["xAxis"]["data"][:2] == ["2027-01", "2027-02"]
    assert [s["data"] for s in forecast["series"]] == [[150000.0, 200000.0, 10000.0], [65000.0, 160000.0, 3000.0],
                                                       [120000.0, 160000.0, 3000.0]]
    targets = chart(page, "targets-chart")
    month = int(this_month(app)[5:])
    assert targets["series"][0]["data"][month - 1] == 5000.0 and targets["series"][1]["data"][month - 1] == 4000.0
    assert targets["series"][2]["data"][month - 1] == 80.0
    scripts = [s["src"] for s in page.html.select("script[src]")]
    assert any("echarts.min.js" in s for s in scripts) and any("charts.js" in s for s in scripts)


def _stages(app):
    with app.env.ctx() as ctx:
        return ctx.dbsession.execute(select(Stage.name, Stage.id)).all()


def test_the_page_keeps_to_the_readers_scope(app, fixture):  # noqa: F811
    env, users, _year, _pipeline = fixture
    with env.ctx() as ctx:
        zhao = as_user(ctx, users["zhao"])
        south = customers.create_customer(zhao, name="广州南方贸易").id
        services.create_opportunity(zhao, customer_id=south, title="南方", amount="70000", expected_close="2027-02-01")
    login(app, WANG)  # the east's manager: not the south's opportunity
    assert cells(app.get(URL), "forecast", "cell-amount")["2027-02"] == ("¥200,000.00",)
    login(app, ADMIN)
    page = app.get(URL)
    assert cells(page, "forecast", "cell-amount")["2027-02"] == ("¥270,000.00",)
    assert {tr.td.text for tr in page.html.select("#departments-table tbody tr")} == {"华东大区", "华南大区"}


# ---------------------------------------------------------------- exports


def test_each_table_exports_as_csv_and_xlsx_with_the_same_numbers(app, fixture):  # noqa: F811
    _env, _users, year, _pipeline = fixture
    login(app, WANG)
    response = app.get(URL, {"export": "csv", "table": "forecast"})
    assert response.content_type == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition and "filename*=UTF-8''" in disposition
    table = read_csv(response)
    assert table[0] == [zh(_("Expected close")), zh(_("Opportunities")), zh(_("Amount")),
                        zh(_("Weighted by probability")), zh(_("Forecast from history"))]
    assert table[1:] == [["2027-01", "2", "150000.00", "65000.00", "120000.00"],
                         ["2027-02", "1", "200000.00", "160000.00", "160000.00"],
                         [zh(_("No close date")), "1", "10000.00", "3000.00", "3000.00"]]
    sheet = read_xlsx(app.get(URL, {"export": "xlsx", "table": "forecast"}))
    assert sheet[0] == table[0]
    assert sheet[1] == ["2027-01", 2, 150000, 65000, 120000]
    assert ".xlsx" in app.get(URL, {"export": "xlsx", "table": "forecast"}).headers["Content-Disposition"]

    owners = read_csv(app.get(URL, {"export": "csv", "table": "owners"}))
    assert owners[1] == ["张三", "4", "360000.00", "228000.00"]
    departments = read_xlsx(app.get(URL, {"export": "xlsx", "table": "departments"}))
    assert departments[1] == ["华东大区", 4, 360000, 228000]
    targets = read_csv(app.get(URL, {"export": "csv", "table": "targets", "year": str(year)}))
    assert targets[0][-1] == zh(_("Reached (%)"))
    assert targets[1:] == [["张三", this_month(app), "5000.00", "4000.00", "80.0"]]
    stages = {row[0]: row for row in read_xlsx(app.get(URL, {"export": "xlsx", "table": "stages"}))[1:]}
    assert stages["方案报价"][1:6] == [60, 6, 5, 4, 80]
    for bad in ({"export": "pdf", "table": "forecast"}, {"export": "csv", "table": "secrets"}, {"export": "csv"}):
        app.get(URL, bad, status=400)


def test_exports_are_formula_safe(app):
    with app.env.ctx() as ctx:
        ctx.dbsession.get(User, app.users["zhang"]).display_name = "=HYPERLINK(\"http://x\")"
        services.create_opportunity(as_user(ctx, app.users["zhang"]), customer_id=app.users["customer"],
                                    title="公式", amount="1000")
    login(app, WANG)
    assert read_csv(app.get(URL, {"export": "csv", "table": "owners"}))[1][0].startswith("'=")
    assert read_xlsx(app.get(URL, {"export": "xlsx", "table": "owners"}))[1][0].startswith("'=")


# ---------------------------------------------------------------- choices and permissions


def test_the_year_and_the_pipeline_can_be_chosen_and_bad_ones_fall_back(app, fixture):  # noqa: F811
    _env, _users, year, pipeline = fixture
    login(app, WANG)
    assert not app.get(URL, {"year": str(year - 1)}).html.select("#targets-table tbody tr[data-user]")
    page = app.get(URL, {"year": "明年", "pipeline": "999999"})
    notices = [n.text for n in page.html.select(".report-notice")]
    assert len(notices) == 2 and "明年" in notices[0]
    assert page.html.select("#targets-table tbody tr[data-user]")  # this year's, the default
    assert page.html.select_one("#report-year option[selected]").text == str(year)
    with app.env.ctx() as ctx:
        from addons.opportunities import pipelines
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        other = pipelines.save_pipeline(admin, name="大客户流程", department_id=None, active=True, stages=[
            {"name": "立项", "probability": 20, "kind": "open"}, {"name": "成交", "probability": 100, "kind": "won"},
            {"name": "丢单", "probability": 0, "kind": "lost"}]).id
    page = app.get(URL, {"pipeline": str(other)})
    assert [tr.td.text for tr in page.html.select("#stages-table tbody tr")] == ["立项", "成交", "丢单"]
    assert page.html.select_one("#report-pipeline option[selected]")["value"] == str(other)
    assert pipeline != other


def test_only_report_readers_see_the_page_and_its_exports(app, fixture):  # noqa: F811
    for who in (WANG, ADMIN):
        login(app, who)
        app.get(URL, status=200)
        app.get(URL, {"export": "csv", "table": "targets"}, status=200)
    for who in (ZHANG, LISI):  # sales: no opportunities.report:read
        login(app, who)
        app.get(URL, status=403)
        app.get(URL, {"export": "csv", "table": "forecast"}, status=403)


def test_the_page_runs_the_same_queries_for_one_owner_or_four(app):
    def opportunity(who, title, close):
        with app.env.ctx() as ctx:
            user = as_user(ctx, app.users[who])
            customer = customers.create_customer(user, name=f"{title}公司").id
            services.create_opportunity(user, customer_id=customer, title=title, amount="10000", expected_close=close)
            admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
            reports.save_target(admin, app.users[who], ctx.now.strftime("%Y-%m"), "20000")

    opportunity("zhang", "一", "2027-01-10")
    login(app, ADMIN)
    few = count_queries(app, URL)
    for n, who in enumerate(("lisi", "wang", "zhao")):
        opportunity(who, f"多{n}", f"2027-0{n + 2}-10")
    many = count_queries(app, URL)
    assert len(app.get(URL).html.select("#owners-table tbody tr")) == 4
    assert len(few) == len(many), "\n".join(many)
