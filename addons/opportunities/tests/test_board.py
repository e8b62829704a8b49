"""The kanban board (看板) and the stage move it posts: the reader's scope only, the columns'
counts and sums, a fixed number of queries whatever the number of cards, moves from the board
(htmx) and from a plain form, and the refusals — a lost stage without a reason, a stage of
another pipeline, someone else's opportunity, a reader without the write permission — with
nothing changed."""

import datetime as dt

from sqlalchemy import func, select

from addons.opportunities import board, pipelines, services
from addons.opportunities.models import Opportunity, Pipeline, Stage, StageChange
from core.i18n import _, localizer_for
from core.models import User
from core.testing.queries import count_queries
from core.users.services import create_user

from .conftest import LISI, WANG, ZHANG, ZHAO, as_user

BOARD = "/opportunities/board"
HTMX = {"HX-Request": "true"}
AUDITOR = ("shenji", "Quiet-Audit-55")


def zh(message, **mapping):
    return localizer_for("zh_CN").translate(_(message, mapping=mapping or None))


def login(app, user):
    app.reset()
    app.login(*user)


def stage_ids(app, pipeline_id=None):
    with app.env.ctx() as ctx:
        pipeline_id = pipeline_id or ctx.dbsession.scalars(select(Pipeline.id).order_by(Pipeline.id)).first()
        return {s.name: s.id for s in ctx.dbsession.scalars(select(Stage).where(Stage.pipeline_id == pipeline_id))}


def make(app, title, owner="zhang", stage=None, **fields):
    """An opportunity of ``owner`` for zhangsan's customer, at ``stage`` (a name) if given."""
    with app.env.ctx() as ctx:
        stage_id = stage_ids(app)[stage] if stage else None
        made = services.create_opportunity(ctx, customer_id=app.users["customer"], title=title, stage_id=stage_id,
                                           owner_id=app.users[owner], **fields)
        if stage in ("输单", "赢单"):
            made.lost_reason = "预算取消" if stage == "输单" else None
        return made.id


def opportunity(app, opportunity_id):
    with app.env.ctx() as ctx:
        found = ctx.dbsession.get(Opportunity, opportunity_id)
        ctx.dbsession.expunge(found)
        return found


def cards(page, stage_id=None):
    """The card ids on the board page (of one column)."""
    scope = page.html.select(f"#column-{stage_id} .board-card") if stage_id else page.html.select(".board-card")
    return [int(card["data-id"]) for card in scope]


def column(page, stage_id):
    return page.html.select_one(f"#column-{stage_id}")


def post(app, url, pairs, **kwargs):
    return app.post(url, [*pairs, ("csrf_token", app.csrf_token())], **kwargs)


def second_pipeline(app):
    with app.env.ctx() as ctx:
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        other = pipelines.save_pipeline(admin, name="大客户流程", department_id=None, active=True, stages=[
            {"name": "立项", "probability": 20, "kind": "open"}, {"name": "签约", "probability": 100, "kind": "won"},
            {"name": "丢单", "probability": 0, "kind": "lost"}])
        return other.id


# -- the board ----------------------------------------------------------------------------------

def test_the_board_shows_the_readers_scope_in_stage_columns(app):
    mine = make(app, "张三的项目", amount="50000", expected_close="2020-01-31")
    theirs = make(app, "李四的项目", owner="lisi", stage="方案报价")
    south = make(app, "赵六的项目", owner="zhao")
    stages = stage_ids(app)
    login(app, ZHANG)
    page = app.get(BOARD)
    assert cards(page) == [mine]
    names = [section["data-stage-name"] for section in page.html.select(".board-column")]
    assert names == ["初步接洽", "需求确认", "方案报价", "谈判审核", "赢单", "输单"]
    card = page.html.select_one(f"#card-{mine}")
    assert card.select_one(".board-card-title").text == "张三的项目"
    assert card.select_one(".board-card-title")["href"] == f"/opportunities/{mine}"
    assert card.select_one(".board-card-customer").text == "杭州云帆科技有限公司"
    assert card.select_one(".board-card-amount").text == "¥50,000.00"
    assert "is-overdue" in card.select_one(".board-card-close")["class"]  # 2020: past
    assert "张三" in card.select_one(".board-card-owner").text
    assert card.select_one(".board-card-probability").text == "10%"
    assert card["draggable"] == "true"
    login(app, WANG)  # the department's manager: zhangsan's and lisi's, not 华南's
    page = app.get(BOARD)
    assert sorted(cards(page)) == sorted([mine, theirs])
    assert cards(page, stages["方案报价"]) == [theirs]
    assert south not in cards(page)
    assert cards(app.get(BOARD, {"mine": "1"})) == []
    login(app, ZHAO)
    assert cards(app.get(BOARD)) == [south]


def test_columns_count_and_sum_their_opportunities(app):
    stages = stage_ids(app)
    make(app, "甲", amount="1000")
    make(app, "乙", amount="2000.50")
    make(app, "丙")
    make(app, "丁", stage="方案报价", amount="10000")
    login(app, ZHANG)
    page = app.get(BOARD)
    first = column(page, stages["初步接洽"])
    assert (first["data-count"], first["data-amount"], first["data-weighted"]) == ("3", "3000.50", "300.05")
    assert first.select_one(".board-amount").text == "¥3,000.50"
    assert first.select_one(".board-count").text == "3"
    offer = column(page, stages["方案报价"])
    assert (offer["data-count"], offer["data-weighted"]) == ("1", "6000.00")
    empty = column(page, stages["需求确认"])
    assert (empty["data-count"], empty["data-amount"]) == ("0", "0.00")
    summary = page.html.select_one("#board-summary").text
    assert "¥13,000.50" in summary and "¥6,300.05" in summary


def test_won_and_lost_columns_show_the_last_30_days(app):
    stages = stage_ids(app)
    recent = make(app, "新赢单", stage="赢单")
    old = make(app, "旧输单", stage="输单")
    with app.env.ctx() as ctx:
        ctx.dbsession.get(Opportunity, old).closed_at = ctx.now - dt.timedelta(days=40)
    login(app, ZHANG)
    page = app.get(BOARD)
    assert cards(page, stages["赢单"]) == [recent]
    assert cards(page, stages["输单"]) == []
    assert "is-collapsed" in column(page, stages["赢单"])["class"]  # on a phone: folded until opened


def test_search_and_the_pipeline_switch(app):
    hit = make(app, "ERP 升级")
    make(app, "官网改版")
    other = second_pipeline(app)
    login(app, ZHANG)
    assert cards(app.get(BOARD, {"q": "erp"})) == [hit]
    assert len(cards(app.get(BOARD, {"q": "杭州云帆"}))) == 2  # the customer's name
    assert cards(app.get(BOARD, {"q": "100%"})) == []  # a wildcard is a character
    page = app.get(BOARD)
    assert [o.text for o in page.html.select("#board-pipeline option")] == ["默认商机流程", "大客户流程"]
    switched = app.get(BOARD, {"pipeline": str(other)})
    assert [s["data-stage-name"] for s in switched.html.select(".board-column")] == ["立项", "签约", "丢单"]
    assert cards(switched) == []
    assert switched.html.select_one("#board-search input[name=pipeline]")["value"] == str(other)


def test_an_unknown_pipeline_is_refused(app):
    login(app, ZHANG)
    page = app.get(BOARD, {"pipeline": "999999"}, status=400)
    assert zh("That pipeline does not exist or is not offered to you.") in page.text


def test_the_board_runs_the_same_few_queries_for_5_or_40_opportunities(app):
    for n in range(5):
        make(app, f"项目{n}", owner="zhang" if n % 2 else "lisi", stage=["初步接洽", "方案报价", "赢单"][n % 3])
    login(app, WANG)
    app.get(BOARD)  # warm caches that are not per page
    few = count_queries(app, BOARD)
    for n in range(5, 40):
        make(app, f"项目{n}", owner="zhang" if n % 2 else "lisi", stage=["初步接洽", "方案报价", "赢单"][n % 3],
             amount=str(n * 1000))
    many = count_queries(app, BOARD)
    assert len(cards(app.get(BOARD))) == 40
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 13, "\n".join(many)


def test_a_column_shows_at_most_the_limit_and_links_to_the_rest(app):
    stages = stage_ids(app)
    for n in range(4):
        make(app, f"项目{n}", expected_close=f"2030-01-0{n + 1}")
    with app.env.ctx() as ctx:
        zhang = as_user(ctx, app.users["zhang"])
        pipeline = pipelines.pipeline_for(zhang, None)
        shown = board.load_board(zhang, pipeline, limit=3)
        first = shown.columns[0]
        assert (first.count, len(first.cards), first.more) == (4, 3, 1)
        assert [c.title for c in first.cards] == ["项目0", "项目1", "项目2"]  # the soonest close first
    many = [make(app, f"批量{n}") for n in range(board.CARD_LIMIT + 1 - 4)]
    login(app, ZHANG)
    page = app.get(BOARD)
    assert len(cards(page, stages["初步接洽"])) == board.CARD_LIMIT
    more = page.html.select_one(f"#column-{stages['初步接洽']} .board-more")
    assert more["href"] == f"/opportunities?f.stage_id={stages['初步接洽']}"
    assert zh("and ${count} more", count=1) in more.text
    listed = app.get(more["href"])
    assert len(listed.html.select("#list-table tbody tr")) > 0
    assert len(many) == board.CARD_LIMIT - 3


def test_a_reader_without_the_write_permission_sees_cards_it_cannot_move(app):
    make(app, "只读项目")
    with app.env.ctx() as ctx:
        create_user(ctx, *AUDITOR, roles=["auditor"], department_id=app.users["east"], display_name="审计")
    login(app, AUDITOR)
    page = app.get(BOARD)
    found = page.html.select(".board-card")
    assert found, "an auditor reads the opportunities"
    assert not page.html.select(".board-card[draggable]") and not page.html.select("[data-board-move]")


# -- moving a stage -----------------------------------------------------------------------------

def test_a_move_from_the_board_answers_the_columns(app):
    made = make(app, "拖动项目", amount="8000")
    stages = stage_ids(app)
    login(app, ZHANG)
    moved = post(app, f"/opportunities/{made}/stage", [("stage_id", stages["方案报价"]), ("next", f"{BOARD}?mine=1")],
                 headers=HTMX)
    assert moved.status_int == 200
    assert moved.html.select_one("#opportunity-board")
    assert cards(moved, stages["方案报价"]) == [made]
    assert "拖动项目" in moved.html.select_one("#board-message").text
    assert moved.html.select_one("#board-search") is None  # the columns only, not the page
    found = opportunity(app, made)
    assert (found.stage_id, found.probability) == (stages["方案报价"], 60)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(StageChange)
                                    .where(StageChange.opportunity_id == made)) == 2


def test_a_plain_form_moves_and_goes_back_to_a_safe_next(app):
    made = make(app, "表单项目")
    stages = stage_ids(app)
    login(app, ZHANG)
    done = post(app, f"/opportunities/{made}/stage", [("stage_id", stages["需求确认"]),
                                                      ("next", f"/opportunities/{made}")], status=303)
    assert done.location.endswith(f"/opportunities/{made}")
    assert opportunity(app, made).stage_id == stages["需求确认"]
    lost = post(app, f"/opportunities/{made}/stage", [("stage_id", stages["输单"]), ("lost_reason", "预算取消"),
                                                      ("next", "https://evil.example/")], status=303)
    assert not lost.location.startswith("https://evil.example")
    assert (opportunity(app, made).status, opportunity(app, made).lost_reason) == ("lost", "预算取消")
    won = post(app, f"/opportunities/{made}/stage", [("stage_id", stages["赢单"])], status=303)
    assert won.location.endswith(BOARD)
    page = won.follow()
    assert "表单项目" in page.html.select_one(".alert-success").text
    assert cards(page, stages["赢单"]) == [made]


def test_lost_without_a_reason_is_refused_and_nothing_changes(app):
    made = make(app, "输单项目")
    stages = stage_ids(app)
    login(app, ZHANG)
    refused = post(app, f"/opportunities/{made}/stage", [("stage_id", stages["输单"]), ("lost_reason", "  "),
                                                         ("next", BOARD)], headers=HTMX, status=422)
    assert zh("Say why the opportunity was lost.") in refused.html.select_one("#board-error").text
    assert cards(refused, stages["初步接洽"]) == [made]
    plain = post(app, f"/opportunities/{made}/stage", [("stage_id", stages["输单"]), ("next", BOARD)], status=303)
    assert zh("Say why the opportunity was lost.") in plain.follow().html.select_one(".alert-danger").text
    found = opportunity(app, made)
    assert (found.stage_id, found.status, found.lost_reason) == (stages["初步接洽"], "open", None)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(StageChange)) == 1


def test_a_stage_of_another_pipeline_is_refused(app):
    made = make(app, "跨流程")
    other = second_pipeline(app)
    foreign = stage_ids(app, other)["立项"]
    login(app, ZHANG)
    refused = post(app, f"/opportunities/{made}/stage", [("stage_id", foreign), ("next", BOARD)], headers=HTMX,
                   status=422)
    assert "立项" in refused.html.select_one("#board-error").text
    for bad in ("", "abc", "99999999999"):
        page = post(app, f"/opportunities/{made}/stage", [("stage_id", bad), ("next", BOARD)], headers=HTMX,
                    status=422)
        assert page.html.select_one("#board-error")
    assert opportunity(app, made).stage_id == stage_ids(app)["初步接洽"]


def test_another_salespersons_opportunity_is_not_found(app):
    theirs = make(app, "李四的项目", owner="lisi")
    stages = stage_ids(app)
    login(app, ZHANG)
    post(app, f"/opportunities/{theirs}/stage", [("stage_id", stages["方案报价"])], status=404)
    refused = post(app, f"/opportunities/{theirs}/stage", [("stage_id", stages["方案报价"]), ("next", BOARD)],
                   headers=HTMX, status=404)
    assert refused.html.select_one("#board-error")
    assert theirs not in cards(refused)
    assert opportunity(app, theirs).stage_id == stages["初步接洽"]
    login(app, LISI)
    post(app, f"/opportunities/{theirs}/stage", [("stage_id", stages["方案报价"])], status=303)
    assert opportunity(app, theirs).stage_id == stages["方案报价"]


def test_a_user_without_the_write_permission_is_refused(app):
    made = make(app, "只读项目")
    stages = stage_ids(app)
    with app.env.ctx() as ctx:
        create_user(ctx, *AUDITOR, roles=["auditor"], department_id=app.users["east"], display_name="审计")
    login(app, AUDITOR)
    post(app, f"/opportunities/{made}/stage", [("stage_id", stages["方案报价"])], status=403)
    post(app, f"/opportunities/{made}/stage", [("stage_id", stages["方案报价"])], headers=HTMX, status=403)
    assert opportunity(app, made).stage_id == stages["初步接洽"]


def test_the_board_needs_a_sign_in(app):
    assert "/login" in app.get(BOARD, status=303).location
    made = make(app, "项目")
    app.get("/login")
    app.post(f"/opportunities/{made}/stage", {"stage_id": str(stage_ids(app)["方案报价"]),
                                              "csrf_token": app.csrf_token()}, status=303)
    assert opportunity(app, made).stage_id == stage_ids(app)["初步接洽"]
