"""The workbench's "today" card (my events of the day, tasks due or overdue, follow-ups due,
ticked off in place; the same few queries for few or many items) and the calendar panel on a
customer's page (what is planned about the customer, new items linked to it, the reader's
scope) — with the customers addon installed beside the calendar."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from addons.calendar import services
from addons.calendar.models import CalendarItem
from addons.calendar.services import ItemData
from addons.customers.services import create_customer
from addons.customers.tests.conftest import post
from addons.customers.tests.test_key_dashboard import card
from addons.customers.tests.test_pages import login
from core.testing.queries import count_queries

from .conftest import ZHANG, ZHAO, as_user, people

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.customers", "addons.calendar")


@pytest.fixture
def app(make_kehu_app, catalog, cli_env):
    kehu = make_kehu_app(catalog=catalog, install=["customers", "calendar"])
    kehu.env = cli_env(catalog)
    kehu.users = people(kehu.env)
    return kehu


def today():
    return dt.datetime.now(SHANGHAI).date()


def make(app, title, who="zhang", **fields):
    fields = {"all_day": True, "start_date": today(), **fields}
    with app.env.ctx() as ctx:
        return services.create_item(as_user(ctx, app.users[who]), ItemData(title=title, **fields)).id


def customer(app, name="阿里巴巴", who="zhang"):
    with app.env.ctx() as ctx:
        return create_customer(as_user(ctx, app.users[who]), name=name).id


def refs(section):
    return [li.select_one("a").text.strip() for li in section.select("[data-ref]")]


def test_today_lists_my_events_tasks_due_and_follow_ups_due(app):
    make(app, "部门例会")
    make(app, "三天前该交的报价", kind="task", all_day=False, start_date=None,
         start=dt.datetime.combine(today() - dt.timedelta(days=3), dt.time(10)))
    make(app, "回访阿里巴巴", kind="task", type="followup")
    make(app, "明天的任务", kind="task", start_date=today() + dt.timedelta(days=1))
    done = make(app, "已完成的任务", kind="task")
    make(app, "赵六的拜访", who="zhao")
    with app.env.ctx() as ctx:
        services.set_done(as_user(ctx, app.users["zhang"]), done)
    login(app, ZHANG)
    page = app.get("/")
    today_card = card(page, "calendar.today")
    assert refs(today_card.select_one("#today-events + ul")) == ["部门例会"]
    tasks = today_card.select_one("#today-tasks + ul")
    assert refs(tasks) == ["三天前该交的报价"]
    assert "逾期" in tasks.text
    assert refs(today_card.select_one("#today-followups + ul")) == ["回访阿里巴巴"]


def test_a_task_is_ticked_off_from_the_card_and_the_workbench_comes_back(app):
    task = make(app, "打电话给王总", kind="task")
    login(app, ZHANG)
    form = card(app.get("/"), "calendar.today").select_one(f"[data-ref='{task}'] form")
    back = post(app, form["action"], [("done", "1"), ("back", "/")])
    assert back.location.endswith("/")
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(CalendarItem, task).done_at is not None
    assert card(back.follow(), "calendar.today").select_one("#today-tasks + ul") is None


def test_the_card_runs_the_same_few_queries_for_3_or_30_items(app):
    login(app, ZHANG)
    for n in range(3):
        make(app, f"任务{n}", kind="task")
    few = len(count_queries(app, "/"))
    for n in range(27):
        make(app, f"更多{n}", kind="task" if n % 2 else "event")
    assert len(count_queries(app, "/")) == few


def test_a_customers_page_shows_what_is_planned_about_it(app):
    cid = customer(app)
    make(app, "拜访阿里巴巴", related_table="customers_customer", related_id=cid,
         start_date=today() + dt.timedelta(days=2))
    make(app, "上周没做的回访", kind="task", related_table="customers_customer", related_id=cid,
         start_date=today() - dt.timedelta(days=7))
    make(app, "别的客户", start_date=today() + dt.timedelta(days=1))
    login(app, ZHANG)
    page = app.get(f"/customers/{cid}")
    assert page.html.select_one("#panel-calendar-planned")
    panel = app.get(f"/panels/calendar.planned?model=customers_customer&id={cid}")
    assert refs(panel.html) == ["上周没做的回访", "拜访阿里巴巴"]
    assert "逾期" in panel.html.select_one("[data-ref]").text
    new = panel.html.select_one("#calendar-new-event")["href"]
    form = app.get(new)
    assert form.html.select_one("input[name=related]")["value"] == f"customers_customer:{cid}"
    assert form.html.select_one("#item-link a").text == "阿里巴巴"


def test_the_panel_follows_the_readers_scope(app):
    cid = customer(app)
    login(app, ZHAO)  # another department: the customer is not his to see
    app.get(f"/panels/calendar.planned?model=customers_customer&id={cid}", status=404)


def test_an_empty_panel_offers_new_items_linked_to_the_customer(app):
    cid = customer(app)
    login(app, ZHANG)
    panel = app.get(f"/panels/calendar.planned?model=customers_customer&id={cid}")
    assert panel.html.select_one("#calendar-planned-empty")
    assert f"related=customers_customer%3A{cid}" in panel.html.select_one("#calendar-new-task")["href"]
