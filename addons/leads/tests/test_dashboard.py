"""The leads cards on the workbench: my leads due for follow-up (today or overdue, open, mine
only), leads by source and by status in the reader's scope (a salesperson's own figures, a
manager's department), open leads by owner for managers only — each chart one GROUP BY, the
page the same few queries for few or many leads."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from addons.customers.tests.test_key_dashboard import card, today_start
from addons.customers.tests.test_pages import login
from addons.leads import services
from addons.leads.conversion import convert_lead
from addons.leads.models import Lead
from core.testing.queries import count_queries

from .conftest import WANG, ZHANG, as_user

SHANGHAI = ZoneInfo("Asia/Shanghai")


def make(app, name, owner="zhang", **fields):
    with app.env.ctx() as ctx:
        return services.create_lead(as_user(ctx, app.users[owner]), name=name, **fields).id


def set_fields(app, lead_id, **fields):
    with app.env.ctx() as ctx:
        lead = ctx.dbsession.get(Lead, lead_id)
        for field, value in fields.items():
            setattr(lead, field, value)


def card_ids(page, widget_id):
    section = card(page, widget_id)
    assert section is not None, widget_id
    return [int(li.attrs["data-lead-id"]) for li in section.select("[data-lead-id]")]


def chart(page, widget_id):
    section = card(page, widget_id)
    assert section is not None, widget_id
    return json.loads(section.select_one("[data-chart]").attrs["data-chart"])


def pie(page, widget_id):
    return {d["name"]: d["value"] for d in chart(page, widget_id)["series"][0]["data"]}


def bars(page, widget_id):
    option = chart(page, widget_id)
    axis = option["yAxis"] if option["yAxis"]["type"] == "category" else option["xAxis"]
    return dict(zip(axis["data"], option["series"][0]["data"], strict=True))


def test_my_leads_due_lists_mine_due_today_or_overdue_and_still_open(app):
    start = today_start()
    today = make(app, "今天跟进线索", next_followup_at=start + dt.timedelta(minutes=5))
    late = make(app, "逾期跟进线索", next_followup_at=start - dt.timedelta(days=3))
    nurtured = make(app, "培育到期线索", status="nurture", nurture_days=7,
                    next_followup_at=start - dt.timedelta(days=1))
    make(app, "下周跟进线索", next_followup_at=start + dt.timedelta(days=7))
    make(app, "李四今天跟进", owner="lisi", next_followup_at=start + dt.timedelta(minutes=5))
    make(app, "不要了的线索", status="disqualified", next_followup_at=start - dt.timedelta(days=1))
    done = make(app, "已转化线索", status="qualified", next_followup_at=start - dt.timedelta(days=1))
    with app.env.ctx() as ctx:
        convert_lead(as_user(ctx, app.users["zhang"]), done)
    login(app, ZHANG)
    page = app.get("/")
    assert card_ids(page, "leads.due") == [late, nurtured, today]  # the most overdue first
    assert card(page, "leads.due").select_one("[data-widget-total]").get_text() == "3"
    assert card(page, "leads.due").select_one(f"a[href='/leads/{today}']") is not None
    login(app, WANG)  # the manager's own: none
    assert card_ids(app.get("/"), "leads.due") == []


def test_a_salesperson_sees_their_own_figures_and_no_owner_chart(app):
    make(app, "展会甲", source="展会")
    make(app, "展会乙", source="展会", status="nurture")
    make(app, "官网丙", source="官网", status="qualified")
    make(app, "无来源丁")
    make(app, "李四的展会", owner="lisi", source="展会")
    make(app, "赵六的官网", owner="zhao", source="官网")
    login(app, ZHANG)
    page = app.get("/")
    assert "echarts.min.js" in page.text and "charts.js" in page.text
    sources = pie(page, "leads.by_source")
    assert sorted(sources.values()) == [1, 1, 2] and sources["展会"] == 2 and sources["官网"] == 1
    assert sorted(bars(page, "leads.by_status").values()) == [1, 1, 2]
    assert card(page, "leads.by_owner") is None


def test_a_manager_sees_the_department_and_open_leads_by_owner(app):
    make(app, "张三甲", source="展会")
    make(app, "张三乙", source="官网", status="contacting")
    make(app, "张三丙", source="官网", status="disqualified")  # not open: not in the owner chart
    make(app, "李四甲", owner="lisi", source="展会")
    make(app, "赵六甲", owner="zhao", source="展会")  # 华南大区: outside the manager's scope
    login(app, WANG)
    page = app.get("/")
    assert pie(page, "leads.by_source") == {"展会": 2, "官网": 2}
    status = bars(page, "leads.by_status")
    assert sorted(status.values()) == [1, 1, 2] and sum(status.values()) == 4
    assert bars(page, "leads.by_owner") == {"李四": 1, "张三": 2}
    rows = [[td.get_text() for td in tr.select("td")] for tr in card(page, "leads.by_owner").select("tr")]
    assert rows == [["张三", "2"], ["李四", "1"]]  # the figures, the largest first


def test_the_status_chart_follows_the_lead_life_order(app):
    for n, status in enumerate(("qualified", "new", "nurture", "new")):
        make(app, f"状态线索{n}", status=status)
    login(app, ZHANG)
    option = chart(app.get("/"), "leads.by_status")
    assert option["series"][0]["data"] == [2, 1, 1]  # new, nurture, qualified: the life order, not the count


def test_the_workbench_runs_the_same_few_queries_for_few_or_many_leads(app):
    start = today_start()

    def add(first, last):
        for n in range(first, last):
            make(app, f"工作台线索{n}", owner="zhang" if n % 2 else "lisi", source=("展会", "官网", None)[n % 3],
                 status=("new", "contacting", "nurture", "qualified")[n % 4],
                 next_followup_at=start + dt.timedelta(minutes=n) if n % 3 else start - dt.timedelta(days=1))

    add(0, 4)
    for user in (ZHANG, WANG):
        login(app, user)
        app.get("/")  # warm caches that are not per page
    login(app, ZHANG)
    few_sales = count_queries(app, "/")
    login(app, WANG)
    few_manager = count_queries(app, "/")
    add(4, 60)
    login(app, ZHANG)
    many_sales = count_queries(app, "/")
    login(app, WANG)
    many_manager = count_queries(app, "/")
    assert len(many_sales) <= len(few_sales) + 1, "\n".join(many_sales)  # + the count beyond a full card
    assert len(many_manager) <= len(few_manager) + 1, "\n".join(many_manager)
    ours = [s for s in many_manager if "leads_lead" in s]
    assert len(ours) <= 5, "\n".join(ours)  # the card, its count, three charts
    assert sum("GROUP BY" in s for s in ours) == 3, "\n".join(ours)
