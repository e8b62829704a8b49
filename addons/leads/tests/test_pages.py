"""The lead pages: list (scope, views, search, bounded queries, bulk actions), the pool list, the
form (查重 while typing, errors beside the fields, where a new lead goes), the lead page (masking,
follow-ups with the customers' quick-add, claim, return) and the conversion page (L1–L4)."""

from sqlalchemy import func, select

from addons.customers import services as customers
from addons.customers.models import Customer
from addons.customers.tests.conftest import post
from addons.customers.tests.test_pages import login, rows, zh
from addons.leads import assignment, pool, services
from addons.leads.models import Lead, LeadFollowup, LeadMove
from core.i18n import _
from core.models import AuditEntry
from core.notifications.models import Notification
from core.testing.queries import count_queries

from .conftest import WANG, ZHANG, as_user

ADMIN = ("admin", "Kehu-Test-Pass-42")


def make(app, name, owner="zhang", **fields):
    with app.env.ctx() as ctx:
        ctx = as_user(ctx, app.users[owner])
        return services.create_lead(ctx, name=name, **fields).id


def in_pool(app, name, **fields):
    with app.env.ctx() as ctx:
        ctx = as_user(ctx, app.users["wang"])
        return services.create_lead(ctx, name=name, pool_id=pool.pools_for(ctx)[0].id, **fields).id


def lead(app, lead_id):
    with app.env.ctx() as ctx:
        found = ctx.dbsession.get(Lead, lead_id)
        ctx.dbsession.expunge(found)
        return found


def count(app, model, *where):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))


# -- list ---------------------------------------------------------------------------------------

def test_the_list_shows_the_readers_scope_and_finds_by_name_or_whole_mobile(app):
    mine = make(app, "杭州云端科技有限公司", mobile="13800138000")
    theirs = make(app, "宁波海港物流有限公司", owner="lisi")
    login(app, ZHANG)
    assert rows(app.get("/leads")) == [mine]
    assert rows(app.get("/leads", {"q": "云端"})) == [mine]
    assert rows(app.get("/leads", {"q": "13800138000"})) == [mine]
    assert rows(app.get("/leads", {"q": "1380013"})) == []  # a masked number is not guessed digit by digit
    login(app, WANG)  # the department's manager
    assert sorted(rows(app.get("/leads"))) == sorted([mine, theirs])


def test_the_converted_and_due_views(app):
    worked = make(app, "甲公司")
    done = make(app, "乙公司", status="qualified")
    with app.env.ctx() as ctx:
        from addons.leads.conversion import convert_lead

        convert_lead(as_user(ctx, app.users["zhang"]), done)
    login(app, ZHANG)
    assert rows(app.get("/leads", {"view": "system:converted"})) == [done]
    assert rows(app.get("/leads", {"view": "system:open"})) == [worked]
    page = app.get("/leads")
    assert zh(_("Converted leads")) in page.text


def test_the_list_runs_the_same_few_queries_for_5_or_40_leads(app):
    for n in range(5):
        make(app, f"线索公司{n}", mobile=f"1390000{n:04d}")
    login(app, WANG)
    few = count_queries(app, "/leads?size=100")
    for n in range(5, 40):
        make(app, f"线索公司{n}", owner="lisi" if n % 2 else "zhang", mobile=f"1390000{n:04d}")
    many = count_queries(app, "/leads?size=100")
    assert len(many) == len(few), many


def test_the_pool_list_shows_pool_leads_and_claims_them_all_or_none(app):
    first, second = in_pool(app, "池中甲公司"), in_pool(app, "池中乙公司")
    make(app, "自有公司")
    login(app, ZHANG)
    assert sorted(rows(app.get("/leads/pool"))) == sorted([first, second])
    pairs = [("action", "claim"), ("scope", "selected"), ("query", ""), ("ids", str(first)), ("ids", str(second))]
    post(app, "/leads/pool/bulk", [*pairs, ("confirm", "1")], status=303)
    assert {lead(app, i).owner_id for i in (first, second)} == {app.users["zhang"]}
    assert rows(app.get("/leads/pool")) == []


def test_bulk_assign_moves_leads_and_tells_the_new_owner_once(app):
    ids = [make(app, f"分配公司{n}") for n in range(2)]
    login(app, WANG)
    pairs = [("action", "assign"), ("scope", "selected"), ("query", ""), ("value", str(app.users["lisi"])),
             *[("ids", str(i)) for i in ids]]
    assert post(app, "/leads/bulk", pairs).html.select_one("#bulk-count")["data-count"] == "2"
    post(app, "/leads/bulk", [*pairs, ("confirm", "1")], status=303)
    assert {lead(app, i).owner_id for i in ids} == {app.users["lisi"]}
    with app.env.ctx() as ctx:
        notices = ctx.dbsession.scalars(select(Notification).where(Notification.user_id == app.users["lisi"])).all()
        assert [n.kind for n in notices] == ["leads.assigned"]


def test_bulk_return_asks_for_a_reason_and_puts_the_leads_back(app):
    ids = [make(app, f"退回公司{n}") for n in range(2)]
    login(app, ZHANG)
    pairs = [("action", "return"), ("scope", "selected"), ("query", ""), *[("ids", str(i)) for i in ids]]
    page = post(app, "/leads/bulk", [*pairs, ("value", "  "), ("confirm", "1")])
    assert page.html.select_one("textarea#bulk-value") is not None
    assert page.html.select_one(".invalid-feedback") is not None  # "Enter a value."
    assert {lead(app, i).owner_id for i in ids} == {app.users["zhang"]}  # nothing moved
    post(app, "/leads/bulk", [*pairs, ("value", "客户暂无预算"), ("confirm", "1")], status=303)
    assert {lead(app, i).owner_id for i in ids} == {None}
    with app.env.ctx() as ctx:
        reasons = ctx.dbsession.scalars(select(LeadMove.reason).where(LeadMove.action == "returned")).all()
        assert reasons == ["客户暂无预算", "客户暂无预算"]


def test_bulk_status_sets_nurture(app):
    ids = [make(app, f"培育公司{n}") for n in range(2)]
    login(app, ZHANG)
    pairs = [("action", "set_status"), ("scope", "selected"), ("query", ""), ("value", "nurture"),
             *[("ids", str(i)) for i in ids], ("confirm", "1")]
    post(app, "/leads/bulk", pairs, status=303)
    assert {lead(app, i).status for i in ids} == {"nurture"}
    converted = [("action", "set_status"), ("scope", "selected"), ("query", ""), ("value", "converted"),
                 ("ids", str(ids[0])), ("confirm", "1")]
    assert post(app, "/leads/bulk", converted).html.select_one(".invalid-feedback") is not None  # not settable
    assert lead(app, ids[0]).status == "nurture"


def test_the_pool_applies_the_rules_for_an_admin_only(app):
    with app.env.ctx() as ctx:
        assignment.save_rule(ctx, name="全部给李四", strategy="user", user_id=app.users["lisi"], conditions=[])
    waiting = in_pool(app, "等待分配公司")
    pairs = [("action", "apply_rules"), ("scope", "selected"), ("query", ""), ("ids", str(waiting)), ("confirm", "1")]
    login(app, ZHANG)
    post(app, "/leads/pool/bulk", pairs, status=303)
    assert lead(app, waiting).owner_id is None  # refused: not a pool administrator
    login(app, ADMIN)
    post(app, "/leads/pool/bulk", pairs, status=303)
    assert lead(app, waiting).owner_id == app.users["lisi"]


# -- form ---------------------------------------------------------------------------------------

def test_create_through_the_form_then_edit(app):
    login(app, ZHANG)
    page = app.get("/leads/new")
    form = page.forms["lead-form"]
    form["name"], form["contact_name"] = "苏州新材料有限公司", "周经理"
    form["mobile"], form["budget"] = "13912345678", "1,200.50"
    saved = form.submit(status=303).follow()
    lead_id = int(saved.request.path.rsplit("/", 1)[1])
    found = lead(app, lead_id)
    assert (found.owner_id, str(found.budget), found.mobile) == (app.users["zhang"], "1200.50", "13912345678")
    edit = app.get(f"/leads/{lead_id}/edit").forms["lead-form"]
    assert edit["budget"].value == "1200.50"
    edit["status"] = "qualified"
    edit.submit(status=303)
    assert lead(app, lead_id).status == "qualified"
    assert count(app, AuditEntry, AuditEntry.model == "leads_lead", AuditEntry.record_id == str(lead_id)) >= 2


def test_bad_input_on_the_form_is_shown_beside_the_field_and_nothing_is_written(app):
    login(app, ZHANG)
    form = app.get("/leads/new").forms["lead-form"]
    form["name"], form["budget"], form["mobile"] = "坏预算公司", "-5", "123"
    page = form.submit(status=200)
    errors = {e["id"] for e in page.html.select(".invalid-feedback")}
    assert "budget-error" in errors or "mobile-error" in errors
    form = page.forms["lead-form"]
    form["mobile"] = ""
    page = form.submit(status=200)
    assert page.html.select_one("#budget-error") is not None
    form = page.forms["lead-form"]
    form["budget"], form["name"] = "", ""
    assert form.submit(status=200).html.select_one("#name-error") is not None
    assert count(app, Lead) == 0


def test_a_new_lead_can_go_to_the_rules_or_into_the_pool(app):
    with app.env.ctx() as ctx:
        assignment.save_rule(ctx, name="全部给李四", strategy="user", user_id=app.users["lisi"], conditions=[])
    login(app, ZHANG)
    form = app.get("/leads/new").forms["lead-form"]
    form["name"], form["destination"] = "规则分配公司", "rules"
    ruled = int(form.submit(status=303).headers["Location"].rsplit("/", 1)[1])
    assert lead(app, ruled).owner_id == app.users["lisi"]
    form = app.get("/leads/new").forms["lead-form"]
    form["name"], form["destination"] = "入池公司", "pool"
    pooled = int(form.submit(status=303).headers["Location"].rsplit("/", 1)[1])
    assert (lead(app, pooled).owner_id, lead(app, pooled).pool_id is not None) == (None, True)


def test_the_duplicate_check_under_the_name_finds_a_customer_and_a_lead(app):
    with app.env.ctx() as ctx:
        customers.create_customer(as_user(ctx, app.users["lisi"]), name="重复科技有限公司")
    login(app, ZHANG)
    assert app.get("/leads/new").html.select_one("#duplicate-warning-name")["hx-get"] == "/customers/duplicates/check"
    hits = app.get("/customers/duplicates/check", {"name": "重复科技"}).html.select(".dup-hit")
    assert hits  # the customer, masked: it is not Zhang's


# -- the lead page ------------------------------------------------------------------------------

def test_the_mobile_is_masked_for_sales_not_for_the_manager(app):
    lead_id = make(app, "掩码公司", mobile="13712345678")
    login(app, ZHANG)
    assert "13712345678" not in app.get(f"/leads/{lead_id}").html.select_one("#lead-mobile").text
    login(app, WANG)
    assert "13712345678" in app.get(f"/leads/{lead_id}").html.select_one("#lead-mobile").text


def test_a_followup_lands_in_the_timeline_and_starts_contacting(app):
    lead_id = make(app, "跟进公司")
    login(app, ZHANG)
    form = app.get(f"/leads/{lead_id}").forms["followup-form"]
    form["content"] = ""
    assert form.submit(status=200).html.select_one("#content-error") is not None
    assert count(app, LeadFollowup) == 0
    form["content"], form["kind"], form["next_at"] = "电话沟通了需求", "phone", "2030-01-02T10:00"
    page = form.submit(status=303).follow()
    assert "电话沟通了需求" in page.html.select_one("#timeline").text
    assert lead(app, lead_id).status == "contacting"


def test_the_quick_followup_from_a_list_row(app):
    lead_id = make(app, "快速跟进公司")
    login(app, ZHANG)
    fragment = app.get(f"/leads/{lead_id}/followups/new", {"next": "/leads"}, headers={"HX-Request": "true"})
    assert fragment.html.select_one("form#quick-followup-form")["action"] == f"/leads/{lead_id}/followups"
    assert fragment.html.select_one("html") is None  # the form alone, for the list's dialog
    post(app, f"/leads/{lead_id}/followups", [("kind", "visit"), ("content", "上门拜访"), ("next", "/leads")],
         status=303)
    assert count(app, LeadFollowup) == 1


def test_claim_from_the_lead_page_and_a_limit_refuses(app):
    with app.env.ctx() as ctx:
        first_pool = pool.pools_for(as_user(ctx, app.users["zhang"]))[0]
        pool.save_pool(ctx, first_pool.id, name=first_pool.name, department_id=None, max_claims_per_day=1,
                       max_open_per_user=None, return_after_days=None, active=True)
    first, second = in_pool(app, "领取甲公司"), in_pool(app, "领取乙公司")
    login(app, ZHANG)
    page = app.get(f"/leads/{first}")
    page.forms["claim-form"].submit(status=303)
    assert lead(app, first).owner_id == app.users["zhang"]
    refused = app.get(f"/leads/{second}").forms["claim-form"].submit(status=303).follow()
    assert refused.request.path == "/leads/pool"
    assert refused.html.select_one(".alert-danger") is not None
    assert lead(app, second).owner_id is None


def test_return_needs_a_reason(app):
    lead_id = make(app, "退回公司")
    login(app, ZHANG)
    form = app.get(f"/leads/{lead_id}").forms["return-form"]
    assert form.submit(status=200).html.select_one("#reason-error") is not None
    assert lead(app, lead_id).owner_id == app.users["zhang"]
    form["reason"] = "联系不上"
    form.submit(status=303)
    assert lead(app, lead_id).owner_id is None


def test_the_lead_page_runs_the_same_queries_for_1_or_10_followups(app):
    lead_id = make(app, "查询次数公司")
    with app.env.ctx() as ctx:
        services.add_followup(as_user(ctx, app.users["zhang"]), lead_id, kind="phone", content="第一次")
    login(app, ZHANG)
    few = count_queries(app, f"/leads/{lead_id}")
    with app.env.ctx() as ctx:
        for n in range(9):
            services.add_followup(as_user(ctx, app.users["zhang"]), lead_id, kind="phone", content=f"第{n}次")
    assert len(count_queries(app, f"/leads/{lead_id}")) == len(few)


def test_another_salespersons_lead_is_not_found(app):
    theirs = make(app, "别人的公司", owner="lisi")
    login(app, ZHANG)
    app.get(f"/leads/{theirs}", status=404)
    app.get(f"/leads/{theirs}/edit", status=404)
    post(app, f"/leads/{theirs}/return", [("pool_id", "1"), ("reason", "x")], status=404)


# -- conversion ---------------------------------------------------------------------------------

def test_a_lead_not_qualified_is_not_offered_the_conversion(app):
    lead_id = make(app, "未合格公司")
    login(app, ZHANG)
    assert app.get(f"/leads/{lead_id}").html.select_one("#convert-button") is None
    page = app.get(f"/leads/{lead_id}/convert")
    assert page.html.select_one("#convert-not-qualified") is not None
    post(app, f"/leads/{lead_id}/convert", [("customer", "new")], status=200)
    assert count(app, Customer) == 0


def test_convert_into_a_new_customer_then_the_lead_is_read_only(app):
    lead_id = make(app, "转化科技有限公司", status="qualified", contact_name="钱经理", mobile="13611112222")
    with app.env.ctx() as ctx:
        services.add_followup(as_user(ctx, app.users["zhang"]), lead_id, kind="phone", content="确认需求")
    login(app, ZHANG)
    page = app.get(f"/leads/{lead_id}").click(href=f"/leads/{lead_id}/convert")
    customer_page = page.forms["convert-form"].submit(status=303).follow()
    assert customer_page.html.select_one("#customer-name").text == "转化科技有限公司"
    assert "确认需求" in customer_page.html.select_one("#timeline").text  # follow-ups carried over
    converted = app.get(f"/leads/{lead_id}")
    assert converted.html.select_one("#lead-converted") is not None
    assert converted.html.select_one("#followup-form") is None and converted.html.select_one("#edit-button") is None
    app.get(f"/leads/{lead_id}/edit", status=303)


def test_convert_links_to_the_existing_customer_chosen_from_the_candidates(app):
    with app.env.ctx() as ctx:
        existing = customers.create_customer(as_user(ctx, app.users["zhang"]), name="已有客户有限公司").id
    lead_id = make(app, "已有客户有限公司", status="qualified")
    login(app, ZHANG)
    form = app.get(f"/leads/{lead_id}/convert").forms["convert-form"]
    assert form["customer"].value == str(existing)  # the same company: linked by default
    form.submit(status=303)
    assert lead(app, lead_id).customer_id == existing
    assert count(app, Customer) == 1
