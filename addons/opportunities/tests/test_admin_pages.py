"""The opportunities admin pages (``opportunities.settings:admin``): pipelines with their stage
rows (bad stage sets refused, nothing written), the scoring weights (saved and rescored, bad
input refused), and the sales targets grid (changed cells only, a bad cell named and nothing
written, the same queries for 5 or 12 people)."""

import decimal

from sqlalchemy import func, select

from addons.customers.tests.conftest import post
from addons.customers.tests.test_pages import login, zh
from addons.opportunities import pipelines, reports, scoring, services
from addons.opportunities.exceptions import PipelineInUse, ScoringWeightsInvalid, StageSetInvalid
from addons.opportunities.models import Opportunity, Pipeline, ScoringWeight, Stage, Target
from core.i18n import _
from core.models import AuditEntry
from core.testing.queries import count_queries
from core.users.services import create_user

from .conftest import WANG, ZHANG, as_user

ADMIN = ("admin", "Kehu-Test-Pass-42")
D = decimal.Decimal


def count(app, model, *where):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))


def text(page):
    return " ".join(page.html.get_text(" ").split())


def default_pipeline(app):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalars(select(Pipeline.id).order_by(Pipeline.id)).first()


def stages_of(app, pipeline_id, *, active_only=True):
    with app.env.ctx() as ctx:
        query = select(Stage.name, Stage.probability, Stage.kind).where(Stage.pipeline_id == pipeline_id)
        if active_only:
            query = query.where(Stage.active.is_(True))
        return [tuple(row) for row in ctx.dbsession.execute(query.order_by(Stage.sequence, Stage.id))]


def rows(*stages):
    """Stage rows as the form posts them: ``(id, name, probability, kind)`` each."""
    pairs = []
    for n, (stage_id, name, probability, kind) in enumerate(stages):
        pairs += [(f"stage-{n}-id", str(stage_id or "")), (f"stage-{n}-name", name),
                  (f"stage-{n}-probability", str(probability)), (f"stage-{n}-kind", kind)]
    return pairs


# ---------------------------------------------------------------- permissions


def test_every_admin_page_opens_for_the_admin_and_is_refused_to_sales_and_managers(app):
    pipeline_id = default_pipeline(app)
    pages = ["/opportunities/pipelines", "/opportunities/pipelines/new", f"/opportunities/pipelines/{pipeline_id}/edit",
             "/opportunities/scoring", "/opportunities/targets"]
    login(app, ADMIN)
    for url in pages:
        app.get(url, status=200)
    app.get("/opportunities/pipelines/999999/edit", status=404)
    for who in (ZHANG, WANG):  # a salesperson, a sales manager: no opportunities.settings:admin
        login(app, who)
        for url in pages:
            app.get(url, status=403)
        post(app, "/opportunities/pipelines/new", [("name", "偷建的流程"), ("department_id", "0"),
                                                   *rows((None, "甲", 10, "open"), (None, "赢", 100, "won"),
                                                         (None, "输", 0, "lost"))], status=403)
        post(app, "/opportunities/scoring", [("weight-stage", "100")], status=403)
        post(app, "/opportunities/targets", [("year", "2026"), (f"t-{app.users['zhang']}-1", "9000")], status=403)
    assert count(app, Pipeline) == 1 and count(app, ScoringWeight) == 0 and count(app, Target) == 0


# ---------------------------------------------------------------- pipelines


def test_the_pipelines_page_lists_each_pipelines_stages_department_and_open_opportunities(app):
    with app.env.ctx() as ctx:
        services.create_opportunity(as_user(ctx, app.users["zhang"]), customer_id=app.users["customer"], title="一")
        admin = _as_admin(ctx)
        east = pipelines.save_pipeline(admin, name="华东大客户", department_id=app.users["east"], active=False,
                                       stages=[{"name": "立项", "probability": 20, "kind": "open"},
                                               {"name": "成交", "probability": 100, "kind": "won"},
                                               {"name": "丢单", "probability": 0, "kind": "lost"}]).id
    login(app, ADMIN)
    page = app.get("/opportunities/pipelines")
    first = page.html.select_one(f"#pipeline-{default_pipeline(app)}")
    assert [li.select_one(".stage-name").text for li in first.select(".stage")] == [
        "初步接洽", "需求确认", "方案报价", "谈判审核", "赢单", "输单"]
    assert first.select(".stage-probability")[2].text == "60%"
    assert first["data-held"] == "1"
    other = page.html.select_one(f"#pipeline-{east}")
    assert other.select_one(".pipeline-department").text == "华东大区"
    assert zh(_("Inactive")) in other.text


def test_the_pipelines_page_runs_the_same_queries_for_1_or_4_pipelines(app):
    login(app, ADMIN)
    few = count_queries(app, "/opportunities/pipelines")
    with app.env.ctx() as ctx:
        for n in range(3):
            pipelines.save_pipeline(_as_admin(ctx), name=f"流程{n}", department_id=app.users["east"], active=True,
                                    stages=[{"name": "立项", "probability": 20, "kind": "open"},
                                            {"name": "成交", "probability": 100, "kind": "won"},
                                            {"name": "丢单", "probability": 0, "kind": "lost"}])
    many = count_queries(app, "/opportunities/pipelines")
    assert len(app.get("/opportunities/pipelines").html.select("section[id^=pipeline-]")) == 4
    assert len(few) == len(many), "\n".join(many)


def _admin(ctx):
    from core.models import User

    return ctx.dbsession.scalars(select(User).where(User.username == "admin")).one()


def test_a_new_pipeline_from_its_stage_rows_blank_rows_ignored(app):
    login(app, ADMIN)
    form = app.get("/opportunities/pipelines/new").forms["pipeline-form"]
    assert form["stage-0-name"].value == "初步接洽" and form["stage-5-kind"].value == "lost"  # the defaults
    assert form["stage-8-name"].value == ""  # and three blank rows
    page = post(app, "/opportunities/pipelines/new", [
        ("name", "渠道流程"), ("department_id", str(app.users["east"])), ("active", "y"),
        *rows((None, "报备", 15, "open"), (None, "", 50, "open"), (None, "签约", 100, "won"), (None, "放弃", 0, "lost"),
              (None, "", "", "open"))], status=303).follow()
    assert zh(_("Saved.")) in text(page)
    with app.env.ctx() as ctx:
        created = ctx.dbsession.scalars(select(Pipeline).where(Pipeline.name == "渠道流程")).one()
        assert (created.department_id, created.active) == (app.users["east"], True)
    assert stages_of(app, created.id) == [("报备", 15, "open"), ("签约", 100, "won"), ("放弃", 0, "lost")]


def test_bad_pipelines_are_refused_beside_their_fields_and_nothing_is_written(app):
    login(app, ADMIN)
    good = [(None, "甲", 10, "open"), (None, "赢", 100, "won"), (None, "输", 0, "lost")]
    for stages in ([good[0], good[1]],  # no lost stage
                   [(None, "甲", 150, "open"), *good[1:]],  # a probability above 100
                   [(None, "甲", "十", "open"), *good[1:]],  # not a number
                   [(None, "甲", "", "open"), *good[1:]],  # none
                   [(None, "甲", 10, "closed"), *good[1:]]):  # an unknown kind
        page = post(app, "/opportunities/pipelines/new", [("name", "坏流程"), ("department_id", "0"), *rows(*stages)],
                    status=200)
        assert page.html.select_one(".stages-error").text == zh(StageSetInvalid.message)
        assert page.html.select_one("#stage-0-name")["value"] == stages[0][1]  # the rows typed are kept
    page = post(app, "/opportunities/pipelines/new", [("name", "  "), ("department_id", "0"), *rows(*good)], status=200)
    assert page.html.select_one("#name.is-invalid") is not None
    assert count(app, Pipeline) == 1 and count(app, Stage) == 6
    assert count(app, AuditEntry, AuditEntry.model == "opportunities_pipeline") == 0


def test_editing_renames_adds_and_takes_out_stages(app):
    pipeline_id = default_pipeline(app)
    ids = dict(_stage_ids(app, pipeline_id))
    login(app, ADMIN)
    form = app.get(f"/opportunities/pipelines/{pipeline_id}/edit").forms["pipeline-form"]
    assert form["name"].value == "默认商机流程" and form["department_id"].value == "0"
    assert [form[f"stage-{n}-name"].value for n in range(7)] == ["初步接洽", "需求确认", "方案报价", "谈判审核",
                                                                "赢单", "输单", ""]
    post(app, f"/opportunities/pipelines/{pipeline_id}/edit", [
        ("name", "标准流程"), ("department_id", "0"), ("active", "y"),
        *rows((ids["初步接洽"], "初次接触", 5, "open"), (ids["需求确认"], "", 30, "open"),  # taken out
              (None, "样品测试", 50, "open"), (ids["方案报价"], "方案报价", 60, "open"),
              (ids["谈判审核"], "谈判审核", 85, "open"), (ids["赢单"], "赢单", 100, "won"),
              (ids["输单"], "输单", 0, "lost"))], status=303)
    assert stages_of(app, pipeline_id) == [("初次接触", 5, "open"), ("样品测试", 50, "open"), ("方案报价", 60, "open"),
                                           ("谈判审核", 85, "open"), ("赢单", 100, "won"), ("输单", 0, "lost")]
    assert ("需求确认", 30, "open") in stages_of(app, pipeline_id, active_only=False)  # kept, inactive
    page = app.get("/opportunities/pipelines")
    assert "需求确认" not in page.html.select_one(f"#pipeline-{pipeline_id}").text


def _stage_ids(app, pipeline_id):
    with app.env.ctx() as ctx:
        return ctx.dbsession.execute(select(Stage.name, Stage.id).where(Stage.pipeline_id == pipeline_id)).all()


def test_a_pipeline_holding_open_opportunities_cannot_be_deactivated(app):
    pipeline_id = default_pipeline(app)
    with app.env.ctx() as ctx:
        services.create_opportunity(as_user(ctx, app.users["zhang"]), customer_id=app.users["customer"], title="一")
    login(app, ADMIN)
    form = app.get(f"/opportunities/pipelines/{pipeline_id}/edit").forms["pipeline-form"]
    form["active"] = False
    form["name"] = "改了名"
    page = form.submit(status=200)
    assert page.html.select_one("#active-error").text == zh(PipelineInUse(name="默认商机流程").translation_string)
    with app.env.ctx() as ctx:
        pipeline = ctx.dbsession.get(Pipeline, pipeline_id)
        assert (pipeline.name, pipeline.active) == ("默认商机流程", True)


# ---------------------------------------------------------------- scoring


def test_the_scoring_weights_are_saved_and_every_open_opportunity_rescored(app):
    with app.env.ctx() as ctx:
        opportunity = services.create_opportunity(as_user(ctx, app.users["zhang"]), customer_id=app.users["customer"],
                                                  title="一", amount="50000").id
    login(app, ADMIN)
    page = app.get("/opportunities/scoring")
    form = page.forms["scoring-form"]
    for factor in scoring.FACTORS:
        assert form[f"weight-{factor.key}"].value == str(factor.default_weight)
        assert zh(factor.label) in page.html.select_one(f"#factor-{factor.key}").text
    assert "¥1,000,000 → 100" in page.html.select_one("#factor-amount .factor-rule").text  # the bands, in words
    assert page.html.select_one("#scoring-explained") is not None
    for factor in scoring.FACTORS:
        form[f"weight-{factor.key}"] = "100" if factor.key == "stage" else "0"
    page = form.submit(status=303).follow()
    assert page.forms["scoring-form"]["weight-stage"].value == "100"
    with app.env.ctx() as ctx:
        assert scoring.weights(ctx)["stage"] == 100 and scoring.weights(ctx)["amount"] == 0
        assert ctx.dbsession.get(Opportunity, opportunity).score == 10  # 初步接洽's 10 %, all of the weight


def test_bad_weights_are_refused_and_nothing_is_written(app):
    login(app, ADMIN)
    for bad in ("101", "-1", "abc", ""):
        page = post(app, "/opportunities/scoring", [("weight-stage", bad), *(
            (f"weight-{f.key}", "10") for f in scoring.FACTORS if f.key != "stage")], status=200)
        assert page.html.select_one("#weight-stage.is-invalid") is not None, bad
    page = post(app, "/opportunities/scoring", [(f"weight-{f.key}", "0") for f in scoring.FACTORS], status=200)
    assert page.html.select_one("#scoring-error").text == zh(ScoringWeightsInvalid.message)
    assert count(app, ScoringWeight) == 0


# ---------------------------------------------------------------- targets


def test_the_targets_grid_saves_the_changed_cells_only(app):
    zhang, lisi = app.users["zhang"], app.users["lisi"]
    login(app, ADMIN)
    page = app.get("/opportunities/targets", {"year": "2027"})
    people = [tr["id"].removeprefix("targets-") for tr in page.html.select("#targets-table tbody tr")]
    assert {str(zhang), str(lisi), str(app.users["wang"]), str(app.users["zhao"])} <= set(people)
    form = page.forms["targets-form"]
    form[f"t-{zhang}-1"] = "50000"
    form[f"t-{zhang}-2"] = "60,000.50"
    form[f"t-{lisi}-12"] = "30000"
    page = form.submit(status=303).follow()
    assert page.request.GET["year"] == "2027"
    with app.env.ctx() as ctx:
        assert reports.targets_of_year(_as_admin(ctx), 2027) == {(zhang, 1): D("50000.00"), (zhang, 2): D("60000.50"),
                                                                 (lisi, 12): D("30000.00")}
    audits = count(app, AuditEntry, AuditEntry.model == "opportunities_target")
    assert audits == 3
    form = page.forms["targets-form"]
    assert form[f"t-{zhang}-2"].value == "60000.5"
    form[f"t-{zhang}-1"] = ""  # removed
    form[f"t-{lisi}-12"] = "0"  # removed too
    form[f"t-{lisi}-11"] = "10000"
    form.submit(status=303)
    with app.env.ctx() as ctx:
        assert reports.targets_of_year(_as_admin(ctx), 2027) == {(zhang, 2): D("60000.50"), (lisi, 11): D("10000.00")}
    assert count(app, AuditEntry, AuditEntry.model == "opportunities_target") == audits + 3  # unchanged cells: none


def _as_admin(ctx):
    return ctx.as_user(_admin(ctx))


def test_a_bad_cell_is_named_and_nothing_is_written(app):
    zhang, lisi = app.users["zhang"], app.users["lisi"]
    login(app, ADMIN)
    form = app.get("/opportunities/targets", {"year": "2027"}).forms["targets-form"]
    form[f"t-{zhang}-1"] = "50000"  # good, but not saved with the bad ones
    form[f"t-{lisi}-3"] = "三万"
    form[f"t-{lisi}-4"] = "-5"
    page = form.submit(status=200)
    errors = [li.text for li in page.html.select("#targets-errors li")]
    assert len(errors) == 2 and all("李四" in e for e in errors)
    assert "2027-03" in errors[0] and "2027-04" in errors[1]
    assert {i["name"] for i in page.html.select("#targets-table input.is-invalid")} == {f"t-{lisi}-3", f"t-{lisi}-4"}
    assert page.html.select_one(f"#t-{zhang}-1")["value"] == "50000"  # what was typed is kept
    assert count(app, Target) == 0
    assert count(app, AuditEntry, AuditEntry.model == "opportunities_target") == 0


def test_the_targets_grid_runs_the_same_queries_for_5_or_12_people(app):
    login(app, ADMIN)
    few = count_queries(app, "/opportunities/targets?year=2027")
    with app.env.ctx() as ctx:
        for n in range(7):
            user = create_user(ctx, f"seller{n}", "Long-Pass-Word-1", roles=["sales"], department_id=app.users["east"])
            reports.save_target(_as_admin(ctx), user.id, "2027-05", "1000")
    many = count_queries(app, "/opportunities/targets?year=2027")
    assert len(app.get("/opportunities/targets?year=2027").html.select("#targets-table tbody tr")) >= 12
    assert len(few) == len(many), "\n".join(many)
