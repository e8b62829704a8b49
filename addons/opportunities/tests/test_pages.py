"""The opportunity pages: the customer picker and the form (errors beside the fields, nothing
written), edit with collaborators, the opportunity page with its stage history, the list's
views and bounded queries, and the customer page's 360° panel."""

from sqlalchemy import func, select

from addons.customers.tests.conftest import post
from addons.customers.tests.test_pages import login, rows
from addons.opportunities import services
from addons.opportunities.models import Opportunity, Stage
from core.access.members import RecordMember
from core.testing.queries import count_queries

from .conftest import LISI, WANG, ZHANG, as_user


def make(app, title="CRM 项目", who="zhang", **fields):
    with app.env.ctx() as ctx:
        return services.create_opportunity(as_user(ctx, app.users[who]), customer_id=app.users["customer"],
                                           title=title, **fields).id


def stage_id(app, name):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalars(select(Stage.id).where(Stage.name == name)).first()


def count(app):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(Opportunity))


def test_new_from_the_picker_then_edit_with_collaborators(app):
    login(app, ZHANG)
    picker = app.get("/opportunities/new", {"q": "云帆"})
    link = picker.html.select_one("#pick-results a")["href"]
    form = app.get(link).forms["opportunity-form"]
    form["title"], form["amount"], form["expected_close"] = "云帆 CRM 一期", "88,000", "2027-02-28"
    form["stage_id"] = str(stage_id(app, "需求确认"))
    page = form.submit(status=303).follow()
    assert page.html.select_one("#opportunity-amount").text == "¥88,000.00"
    assert page.html.select_one("#opportunity-stage").text == "需求确认"
    assert page.html.select_one("#opportunity-probability").text == "30%"
    opportunity_id = int(page.request.path.rsplit("/", 1)[1])
    edit = app.get(f"/opportunities/{opportunity_id}/edit").forms["opportunity-form"]
    edit["collaborators"] = [str(app.users["lisi"])]
    edit["competitor"] = "某某 CRM"
    edit.submit(status=303)
    with app.env.ctx() as ctx:
        members = ctx.dbsession.scalars(select(RecordMember).where(RecordMember.record_id == opportunity_id)).all()
        assert [(m.user_id, m.can_write) for m in members] == [(app.users["lisi"], True)]
    login(app, LISI)  # a collaborator reads and edits it
    assert app.get(f"/opportunities/{opportunity_id}").html.select_one("#edit-button") is not None


def test_bad_input_is_shown_beside_the_field_and_nothing_is_written(app):
    login(app, ZHANG)
    form = app.get("/opportunities/new", {"customer_id": app.users["customer"]}).forms["opportunity-form"]
    form["title"], form["amount"], form["expected_close"] = "坏数据", "-100", "2026-02-30"
    page = form.submit(status=200)
    assert page.html.select_one("#amount-error") is not None
    form = page.forms["opportunity-form"]
    form["amount"] = "100"
    assert form.submit(status=200).html.select_one("#expected_close-error") is not None
    assert count(app) == 0


def test_another_salespersons_customer_and_opportunity_are_not_found(app):
    mine = make(app)
    login(app, LISI)
    app.get("/opportunities/new", {"customer_id": app.users["customer"]}, status=404)
    app.get(f"/opportunities/{mine}", status=404)
    app.get(f"/opportunities/{mine}/edit", status=404)
    assert app.get("/opportunities/new", {"q": "云帆"}).html.select("#pick-results a") == []


def test_the_page_shows_the_stage_history_with_time_in_stage(app):
    opportunity_id = make(app, amount="1000")
    with app.env.ctx() as ctx:
        services.move_stage(as_user(ctx, app.users["zhang"]), opportunity_id, stage_id(app, "方案报价"))
    login(app, ZHANG)
    page = app.get(f"/opportunities/{opportunity_id}")
    history = page.html.select("#stage-history li")
    assert [li.select_one(".badge").text for li in history] == ["初步接洽", "方案报价"]
    assert all(li.select_one(".stage-duration").text.strip() for li in history)
    assert page.html.select_one("#stage-steps [aria-current]").text.startswith("方案报价")


def test_the_lists_views_and_bounded_queries(app):
    won, lost, open_ = make(app, "赢单项目"), make(app, "输单项目"), make(app, "进行中项目")
    with app.env.ctx() as ctx:
        zhang = as_user(ctx, app.users["zhang"])
        services.move_stage(zhang, won, stage_id(app, "赢单"))
        services.move_stage(zhang, lost, stage_id(app, "输单"), lost_reason="预算")
    login(app, ZHANG)
    assert rows(app.get("/opportunities", {"view": "system:won"})) == [won]
    assert rows(app.get("/opportunities", {"view": "system:lost"})) == [lost]
    assert rows(app.get("/opportunities", {"view": "system:open"})) == [open_]
    login(app, WANG)
    few = count_queries(app, "/opportunities?size=100")
    for n in range(30):
        make(app, f"项目{n}", amount=str(n * 1000))
    assert len(count_queries(app, "/opportunities?size=100")) == len(few)


def test_the_customer_page_panel_lists_its_opportunities(app):
    open_ = make(app, "开放项目", amount="5000")
    login(app, ZHANG)
    customer_page = app.get(f"/customers/{app.users['customer']}")
    frame = customer_page.html.select_one("[hx-get*='opportunities.customer']")
    panel = app.get(frame["hx-get"])
    assert [int(li["data-opportunity-id"]) for li in panel.html.select("li[data-opportunity-id]")] == [open_]
    assert panel.html.select_one("#opportunity-new") is not None


def test_bulk_assign_tells_the_new_owner(app):
    ids = [make(app, f"转移{n}") for n in range(2)]
    login(app, WANG)
    pairs = [("action", "assign"), ("scope", "selected"), ("query", ""), ("value", str(app.users["lisi"])),
             *[("ids", str(i)) for i in ids], ("confirm", "1")]
    post(app, "/opportunities/bulk", pairs, status=303)
    with app.env.ctx() as ctx:
        assert {o.owner_id for o in ctx.dbsession.scalars(select(Opportunity))} == {app.users["lisi"]}


def test_the_page_explains_the_score_and_the_ranking_lists_by_score(app):
    low = make(app, "小项目", amount="1000")
    high = make(app, "大项目", amount="2000000")
    with app.env.ctx() as ctx:
        services.move_stage(as_user(ctx, app.users["zhang"]), high, stage_id(app, "谈判审核"))
    login(app, ZHANG)
    page = app.get(f"/opportunities/{high}")
    score = int(page.html.select_one("#opportunity-score").text)
    shares = [int(td.text.strip().lstrip("+")) for td in page.html.select("#score-factors .factor-share")]
    assert score > 0 and sum(shares) == score
    assert rows(app.get("/opportunities/ranking")) == [high, low]
