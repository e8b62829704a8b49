"""重点客户 and the workbench cards: the key-customer list (scope, level filter, days since the
last follow-up, bounded queries), and the customers cards on the home page — due today, overdue,
recently claimed, back to the pool soon; charts by level, source and province for managers only
— with the same few queries for few or many customers."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from addons.customers import pool as pools
from addons.customers import services
from addons.customers.models import Customer, PoolMove

from .conftest import WANG, ZHANG
from .test_pages import count_queries, login, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


def make(app, name, owner="zhang", **fields):
    with app.env.ctx() as ctx:
        return services.create_customer(ctx, name=name, owner_id=app.users[owner] if owner else None, **fields).id


def set_fields(app, customer_id, **fields):
    with app.env.ctx() as ctx:
        customer = ctx.dbsession.get(Customer, customer_id)
        for field, value in fields.items():
            setattr(customer, field, value)


def today_start():
    now = dt.datetime.now(SHANGHAI)
    return dt.datetime.combine(now.date(), dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)


def card(page, widget_id):
    return page.html.select_one(f"#widget-{widget_id.replace('.', '-')}")


def card_ids(page, widget_id):
    section = card(page, widget_id)
    assert section is not None, widget_id
    return [int(li.attrs["data-customer-id"]) for li in section.select("[data-customer-id]")]


# -- 重点客户 -------------------------------------------------------------------------------------

def test_the_key_customer_list_shows_key_customers_in_scope_with_days_since_follow_up(app):
    mine = make(app, "阿里巴巴有限公司", key_customer=True, level="A")
    plain = make(app, "普通客户有限公司", level="A")
    theirs = make(app, "李四的重点客户", owner="lisi", key_customer=True, level="B")
    set_fields(app, mine, last_followup_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=12, hours=1))
    login(app, ZHANG)
    page = app.get("/customers/key")
    assert rows(page) == [mine]  # not the plain one, not lisi's
    assert "12" in [td.text.strip() for td in page.html.select(f"#row-{mine} td")]
    login(app, WANG)  # the manager sees the department's key customers
    assert sorted(rows(app.get("/customers/key"))) == sorted([mine, theirs])
    assert plain not in rows(app.get("/customers/key"))


def test_the_key_customer_list_filters_by_level_and_searches(app):
    a = make(app, "甲级客户有限公司", key_customer=True, level="A")
    b = make(app, "乙级客户有限公司", key_customer=True, level="B")
    login(app, WANG)
    assert sorted(rows(app.get("/customers/key"))) == sorted([a, b])
    assert rows(app.get("/customers/key", {"filtered": "1", "f.level": "B"})) == [b]
    assert rows(app.get("/customers/key", {"filtered": "1", "f.level": "A"})) == [a]
    assert rows(app.get("/customers/key", {"q": "乙级"})) == [b]


def test_the_key_customer_list_runs_the_same_few_queries_for_5_or_60_customers(app):
    for n in range(5):
        make(app, f"重点公司{n}", owner="zhang" if n % 2 else "lisi", key_customer=True, level="A")
    login(app, WANG)
    app.get("/customers/key")  # warm caches that are not per page
    few = count_queries(app, "/customers/key?size=100")
    for n in range(5, 60):
        make(app, f"重点公司{n}", owner="zhang" if n % 2 else "lisi", key_customer=True, level="B")
    many = count_queries(app, "/customers/key?size=100")
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 11, "\n".join(many)


def test_the_key_customer_menu_item(app):
    login(app, ZHANG)
    assert app.get("/customers/key").status_int == 200
    assert app.get("/").html.select_one("a[href='/customers/key']") is not None


# -- workbench ----------------------------------------------------------------------------------

def test_the_workbench_lists_my_follow_ups_due_today_and_overdue(app):
    start = today_start()
    due = make(app, "今天跟进有限公司")
    late = make(app, "逾期跟进有限公司")
    later = make(app, "下周跟进有限公司")
    theirs = make(app, "李四今天跟进", owner="lisi")
    set_fields(app, due, next_followup_at=start + dt.timedelta(minutes=1))
    set_fields(app, late, next_followup_at=start - dt.timedelta(days=2))
    set_fields(app, later, next_followup_at=start + dt.timedelta(days=7))
    set_fields(app, theirs, next_followup_at=start + dt.timedelta(minutes=1))
    login(app, ZHANG)
    page = app.get("/")
    assert card_ids(page, "customers.due_today") == [due]
    assert card_ids(page, "customers.overdue") == [late]
    assert card(page, "customers.by_level") is None  # a salesperson (own scope): no charts
    assert "echarts" not in page.text


def test_the_workbench_lists_recent_claims_and_customers_going_back_to_the_pool(app):
    now = dt.datetime.now(dt.UTC)
    with app.env.ctx() as ctx:
        pool = pools.save_pool(ctx, name="华东公海", return_after_days_without_followup=30)
        pool_id = pool.id
    claimed = make(app, "刚领取有限公司")
    old_claim = make(app, "上月领取有限公司")
    soon = make(app, "快回公海有限公司")
    safe = make(app, "刚跟进有限公司")
    with app.env.ctx() as ctx:
        zhang = app.users["zhang"]
        ctx.dbsession.add(PoolMove(customer_id=claimed, pool_id=pool_id, action="claimed", user_id=zhang, at=now))
        ctx.dbsession.add(PoolMove(customer_id=old_claim, pool_id=pool_id, action="claimed", user_id=zhang,
                                   at=now - dt.timedelta(days=20)))
    set_fields(app, soon, pool_id=pool_id, acquired_at=now - dt.timedelta(days=27),
               last_followup_at=now - dt.timedelta(days=26))
    set_fields(app, safe, pool_id=pool_id, acquired_at=now - dt.timedelta(days=27),
               last_followup_at=now - dt.timedelta(days=1))
    login(app, ZHANG)
    page = app.get("/")
    assert card_ids(page, "customers.claimed") == [claimed]
    assert card_ids(page, "customers.returning") == [soon]


def test_managers_get_charts_by_level_source_and_province_within_their_scope(app):
    make(app, "上海甲公司", level="A", source="展会", province="上海市")
    make(app, "上海乙公司", owner="lisi", level="A", source="官网", province="上海市")
    make(app, "浙江丙公司", owner="lisi", level="B", source="展会", province="浙江省")
    with app.env.ctx() as ctx:  # someone outside the manager's department
        from core.org.services import create_department, root_department
        from core.users.services import create_user

        south = create_department(ctx, "华南大区", root_department(ctx).id).id
        other = create_user(ctx, "zhaoliu", "Summer-Sun-66", roles=["sales"], department_id=south).id
        services.create_customer(ctx, name="广东丁公司", owner_id=other, level="A", province="广东省")
    login(app, WANG)
    page = app.get("/")
    assert "echarts.min.js" in page.text and "charts.js" in page.text
    level = card(page, "customers.by_level").select_one("[data-chart]")
    option = json.loads(level.attrs["data-chart"])
    assert option["series"][0]["data"] == [2, 1]  # A: 2, B: 1 — 广东 is outside 华东
    province = json.loads(card(page, "customers.by_province").select_one("[data-chart]").attrs["data-chart"])
    assert dict(zip(province["yAxis"]["data"], province["series"][0]["data"], strict=True)) == {"上海市": 2,
                                                                                                "浙江省": 1}
    source = json.loads(card(page, "customers.by_source").select_one("[data-chart]").attrs["data-chart"])
    assert {d["name"]: d["value"] for d in source["series"][0]["data"]} == {"展会": 2, "官网": 1}


def test_the_home_page_runs_the_same_few_queries_for_few_or_many_customers(app):
    start = today_start()

    def add(first, last):
        for n in range(first, last):
            customer = make(app, f"工作台公司{n}", owner="zhang" if n % 2 else "lisi", level="ABCD"[n % 4],
                            source="展会", province="上海市")
            set_fields(app, customer, next_followup_at=start + dt.timedelta(minutes=n) if n % 3
                       else start - dt.timedelta(days=1))

    with app.env.ctx() as ctx:
        pools.save_pool(ctx, name="华东公海", return_after_days_without_followup=30)
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
    assert len(many_sales) <= len(few_sales) + 2, "\n".join(many_sales)  # + the counts beyond a full card
    assert len(many_manager) <= len(few_manager) + 2, "\n".join(many_manager)
    assert len(many_sales) <= 11, "\n".join(many_sales)
    assert len(many_manager) <= 15, "\n".join(many_manager)
