"""The customers pages: list (search by pinyin initials, bounded queries), forms with errors
beside their fields, the 360° page (masking, quick follow-up), global search, bulk assign, the
CSV import and 查重."""

import csv
import io
import re

from sqlalchemy import func, select

from addons.customers import services
from addons.customers.models import Contact, Customer, Followup
from core.api.tokens import create_token
from core.i18n import _, localizer_for
from core.jobs import worker
from core.models import User
from core.notifications.models import Notification
from core.testing.queries import count_queries

from .conftest import LISI, WANG, ZHANG, post


def zh(message):
    return localizer_for("zh_CN").translate(message)


def login(app, user):
    """Sign in as ``user``, leaving any earlier session."""
    app.reset()
    app.login(*user)


def rows(page):
    return [int(tr.attrs["id"].removeprefix("row-")) for tr in page.html.select("#list-table tbody tr")]


def make(app, name, owner="zhang", **fields):
    with app.env.ctx() as ctx:
        return services.create_customer(ctx, name=name, owner_id=app.users[owner], **fields).id


# -- list ---------------------------------------------------------------------------------------

def test_the_list_finds_by_pinyin_initials_within_the_scope(app):
    ali = make(app, "阿里巴巴（中国）有限公司")
    make(app, "腾讯科技有限公司")
    theirs = make(app, "阿里云计算有限公司", owner="lisi")
    login(app, ZHANG)
    assert rows(app.get("/customers", {"q": "albb"})) == [ali]
    assert rows(app.get("/customers", {"q": "alibaba"})) == [ali]
    assert rows(app.get("/customers", {"q": "阿里"})) == [ali]  # lisi's is outside zhangsan's scope
    login(app, WANG)
    assert sorted(rows(app.get("/customers", {"q": "阿里"}))) == sorted([ali, theirs])


def test_key_and_due_views(app):
    key = make(app, "重点公司", key_customer=True)
    due = make(app, "到期公司")
    make(app, "普通公司")
    with app.env.ctx() as ctx:
        ctx.dbsession.get(Customer, due).next_followup_at = ctx.now
    login(app, ZHANG)
    assert rows(app.get("/customers", {"view": "system:key"})) == [key]
    assert rows(app.get("/customers", {"view": "system:due"})) == [due]


def test_the_list_runs_the_same_few_queries_for_5_or_60_customers(app):
    for n in range(5):
        make(app, f"公司{n}", owner="zhang" if n % 2 else "lisi")
    login(app, WANG)
    app.get("/customers")  # warm caches that are not per page
    few = count_queries(app, "/customers?size=100")
    for n in range(5, 60):
        make(app, f"公司{n}", owner="zhang" if n % 2 else "lisi")
    many = count_queries(app, "/customers?size=100")
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 13, "\n".join(many)  # lists, role grants, custom fields: cached (core.config_cache)


# -- forms --------------------------------------------------------------------------------------

def test_a_duplicate_name_on_the_form_is_shown_beside_it_and_nothing_is_written(app):
    make(app, "阿里巴巴有限公司", owner="lisi")
    login(app, ZHANG)
    page = post(app, "/customers/new", [("name", "阿里巴巴 有限责任公司"), ("deal_status", "open"), ("level", "")])
    assert page.status_int == 200
    assert page.html.select_one("#name.is-invalid") is not None
    expected = zh(_("A customer named “${name}” already exists (owner: ${owner}).",
                    mapping={"name": "阿里巴巴有限公司", "owner": "李四"}))
    assert page.html.select_one("#name-error").get_text() == expected
    bad_code = post(app, "/customers/new", [("name", "新公司"), ("credit_code", "123"), ("deal_status", "open")])
    assert bad_code.html.select_one("#credit_code-error") is not None
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 1


def test_create_then_edit_through_the_forms(app):
    login(app, ZHANG)
    created = post(app, "/customers/new", [("name", "上海华信科技有限公司"), ("level", "B"), ("deal_status", "open"),
                                            ("key_customer", "y"), ("province", "上海")], status=303)
    customer_id = int(re.search(r"/customers/(\d+)$", created.location).group(1))
    post(app, f"/customers/{customer_id}/edit", [("name", "上海华信科技有限公司"), ("level", "A"),
                                                  ("deal_status", "won")], status=303)
    with app.env.ctx() as ctx:
        customer = ctx.dbsession.get(Customer, customer_id)
        assert (customer.level, customer.deal_status, customer.key_customer) == ("A", "won", False)
        assert customer.owner_id == app.users["zhang"]
    login(app, LISI)
    app.get(f"/customers/{customer_id}", status=404)  # not lisi's


def test_a_contact_form_checks_the_mobile(app):
    customer_id = make(app, "甲公司")
    login(app, ZHANG)
    page = post(app, f"/customers/{customer_id}/contacts/new", [("name", "王经理"), ("mobile", "12345")])
    assert page.html.select_one("#mobile-error") is not None
    post(app, f"/customers/{customer_id}/contacts/new", [("name", "王经理"), ("mobile", "13800138000")], status=303)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(Contact.mobile)) == "13800138000"


# -- the 360° page ------------------------------------------------------------------------------

def test_the_contact_mobile_is_masked_for_sales_not_for_the_manager(app):
    customer_id = make(app, "甲公司")
    with app.env.ctx() as ctx:
        services.add_contact(ctx, customer_id, name="王经理", mobile="13800138000", primary=True)
    login(app, ZHANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one(".contact-mobile").get_text(strip=True) == "138****8000"
    assert "13800138000" not in page.text
    login(app, WANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one(".contact-mobile").get_text(strip=True) == "13800138000"


def test_a_quick_followup_lands_in_the_timeline_and_sets_the_dates(app):
    customer_id = make(app, "甲公司")
    login(app, ZHANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one("#timeline-empty") is not None
    empty = post(app, f"/customers/{customer_id}/followups", [("kind", "phone"), ("content", "")])
    assert empty.html.select_one("#content.is-invalid") is not None
    post(app, f"/customers/{customer_id}/followups", [("kind", "visit"), ("content", "第一次拜访")], status=303)
    post(app, f"/customers/{customer_id}/followups", [("kind", "phone"), ("content", "电话约演示"),
                                                      ("next_at", "2031-05-06T10:00"), ("next_step", "演示")],
         status=303)
    page = app.get(f"/customers/{customer_id}")
    assert [li.select_one(".followup-content").get_text() for li in page.html.select("#timeline li")] == [
        "电话约演示", "第一次拜访"]  # newest first
    with app.env.ctx() as ctx:
        customer = ctx.dbsession.get(Customer, customer_id)
        assert customer.last_followup_at is not None
        assert customer.next_followup_at.isoformat() == "2031-05-06T02:00:00+00:00"  # 10:00 in Asia/Shanghai
        assert ctx.dbsession.scalar(select(func.count()).select_from(Followup)) == 2
    assert page.html.select_one("#panel-core-history") is not None  # the core's record panels


def test_global_search_finds_a_customer_by_initials_and_a_contact_by_mobile(app):
    customer_id = make(app, "阿里巴巴有限公司")
    with app.env.ctx() as ctx:
        services.add_contact(ctx, customer_id, name="马经理", mobile="13800138000")
    login(app, ZHANG)
    page = app.get("/search", {"q": "albb"})
    assert f'href="/customers/{customer_id}"' in page.text
    page = app.get("/search", {"q": "13800138000"})
    assert "马经理" in page.text and f'href="/customers/{customer_id}"' in page.text
    assert "138****8000" in page.text  # the hit shows the number masked to a salesperson


def test_duplicate_check_page_shows_names_and_owners_only(app):
    make(app, "上海华信科技有限公司", owner="lisi", address="秘密地址")
    login(app, ZHANG)
    page = app.get("/customers/duplicates", {"name": "华信科技"})
    hits = [li.select_one(".dup-name").get_text() for li in page.html.select("#duplicates li")]
    assert hits == ["上海***公司"]  # outside zhang's scope: masked (duplicates.mask_name)
    assert "李四" in page.text and "秘密地址" not in page.text


# -- bulk and import ----------------------------------------------------------------------------

def test_bulk_assign_notifies_the_new_owner(app):
    ids = [make(app, f"公司{n}") for n in range(2)]
    login(app, WANG)
    pairs = [("action", "assign"), ("scope", "selected"), ("query", ""), ("value", str(app.users["lisi"])),
             *[("ids", str(i)) for i in ids]]
    assert post(app, "/customers/bulk", pairs).html.select_one("#bulk-count")["data-count"] == "2"
    post(app, "/customers/bulk", [*pairs, ("confirm", "1")], status=303)
    with app.env.ctx() as ctx:
        assert {c.owner_id for c in ctx.dbsession.scalars(select(Customer))} == {app.users["lisi"]}
        notices = ctx.dbsession.scalars(select(Notification).where(Notification.user_id == app.users["lisi"])).all()
        assert [n.kind for n in notices] == ["customers.assigned"]


def test_a_csv_import_reports_the_duplicate_row(app, catalog):
    make(app, "阿里巴巴有限公司", owner="lisi")
    login(app, ZHANG)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([
        ["客户名称", "简称", "统一社会信用代码", "级别", "省份", "城市"],
        ["上海华信科技有限公司", "华信", "91350100M000100Y43", "A", "上海", "上海市"],
        ["阿里巴巴（中国）有限公司", "阿里", "", "B", "浙江", "杭州市"],
        ["深圳鼎盛电子有限公司", "", "", "c", "广东", "深圳市"],
    ])
    response = app.post("/imports/new/customers.customers", {"csrf_token": app.csrf_token()},
                        upload_files=[("file", "customers.csv", buffer.getvalue().encode("utf-8"))], status=303)
    import_id = int(re.search(r"/imports/(\d+)/mapping$", response.location).group(1))
    mapping = app.get(f"/imports/{import_id}/mapping")
    assert 'value="name" selected' in mapping.text and 'value="credit_code" selected' in mapping.text  # by alias
    data = {"col-0": "name", "col-1": "short_name", "col-2": "credit_code", "col-3": "level", "col-4": "province",
            "col-5": "city"}
    app.post_form(f"/imports/{import_id}/mapping", data, status=303)
    app.post_form(f"/imports/{import_id}/preview", {"mode": "create", "key_field": ""}, status=303)
    worker.Worker(app.env.engine, catalog, app.env.settings).run(until_idle=True)
    report = app.get(f"/imports/{import_id}/progress")
    assert 'id="import-created" data-count="2"' in report.text and 'id="import-errors" data-count="1"' in report.text
    errors = app.get(f"/imports/{import_id}/errors.csv").body.decode("utf-8-sig")
    reasons = list(csv.reader(io.StringIO(errors)))
    assert reasons[1][0] == "3"
    assert reasons[1][1] == zh(_("A customer named “${name}” already exists (owner: ${owner}).",
                                 mapping={"name": "阿里巴巴有限公司", "owner": "李四"}))
    with app.env.ctx() as ctx:
        names = sorted(ctx.dbsession.scalars(select(Customer.name).where(Customer.owner_id == app.users["zhang"])))
        assert names == ["上海华信科技有限公司", "深圳鼎盛电子有限公司"]


def test_the_customer_page_runs_the_same_queries_for_1_or_10_contacts_and_followups(app):
    customer_id = make(app, "甲公司")

    def add(n):
        with app.env.ctx() as ctx:
            for i in range(n):
                services.add_contact(ctx, customer_id, name=f"联系人{i}", mobile=f"1380013{8000 + i}")
                services.add_followup(ctx.as_user(ctx.dbsession.get(User, app.users["zhang" if i % 2 else "wang"])),
                                      customer_id, kind="phone", content=f"跟进{i}")

    add(1)
    login(app, WANG)
    app.get(f"/customers/{customer_id}")  # warm caches that are not per page
    few = count_queries(app, f"/customers/{customer_id}")
    add(9)
    many = count_queries(app, f"/customers/{customer_id}")
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 13, "\n".join(many)  # PostgreSQL: 12; lists and grants cached


# -- JSON API -----------------------------------------------------------------------------------

def test_the_api_creates_in_scope_and_refuses_a_duplicate_with_409(app):
    with app.env.ctx() as ctx:
        token = create_token(ctx, ctx.dbsession.get(User, app.users["zhang"]), "sync", "write", 30)[0]
    headers = {"Authorization": f"Bearer {token}"}
    theirs = make(app, "李四的公司", owner="lisi")
    created = app.post_json("/api/v1/customers", {"name": "阿里巴巴有限公司", "level": "A"}, headers=headers,
                            status=201).json
    assert (created["name"], created["owner_id"], created["level"]) == ("阿里巴巴有限公司", app.users["zhang"], "A")
    app.post_json("/api/v1/customers", {"name": "阿里巴巴 有限责任公司"}, headers=headers, status=409)
    assert [c["id"] for c in app.get("/api/v1/customers", {"q": "albb"}, headers=headers).json["items"]] == [
        created["id"]]
    app.get(f"/api/v1/customers/{theirs}", headers=headers, status=404)


def test_a_salesperson_edits_a_contact_without_seeing_or_losing_its_mobile(app):
    customer_id = make(app, "甲公司")
    with app.env.ctx() as ctx:
        contact_id = services.add_contact(ctx, customer_id, name="王经理", mobile="13800138000").id
    login(app, ZHANG)
    form = app.get(f"/customers/contacts/{contact_id}/edit")
    assert form.html.select_one("#mobile")["value"] == "138****8000"
    post(app, f"/customers/contacts/{contact_id}/edit", [("name", "王总"), ("mobile", "138****8000")], status=303)
    with app.env.ctx() as ctx:
        contact = ctx.dbsession.get(Contact, contact_id)
        assert (contact.name, contact.mobile) == ("王总", "13800138000")
