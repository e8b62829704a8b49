"""``/api/v1/opportunities`` as a program calls it: create with the pipeline's defaults, read in
scope, PATCH, move a stage (won, lost with a reason, a stage of another pipeline refused),
bad amounts and dates refused with a translated problem and nothing written."""

import pytest
from sqlalchemy import func, select

from addons.opportunities import pipelines
from addons.opportunities.models import Opportunity, Pipeline, Stage
from core.api.tokens import create_token
from core.models import User
from core.testing.api import PersonalApi, problem


@pytest.fixture
def api(app):
    with app.env.ctx() as ctx:
        tokens = {who: create_token(ctx, ctx.dbsession.get(User, user_id), "sync", "write", 30)[0]
                  for who, user_id in app.users.items() if who in ("zhang", "lisi", "wang")}
        stages = {s.name: s.id for s in ctx.dbsession.scalars(select(Stage))}
    client = PersonalApi(app, tokens)
    client.users, client.env, client.stages = app.users, app.env, stages
    return client


def count(api):
    with api.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(Opportunity))


def test_create_read_patch_and_move_through_the_stages(api):
    made = api.post("zhang", "/api/v1/opportunities", {"customer_id": api.users["customer"], "title": "CRM 项目",
                                                       "amount": "50000", "expected_close": "2027-01-31"},
                    status=201).json
    assert (made["status"], made["probability"], made["amount"], made["stage_id"]) == (
        "open", 10, "50000.00", api.stages["初步接洽"])
    api.get("lisi", f"/api/v1/opportunities/{made['id']}", status=404)
    assert api.get("wang", f"/api/v1/opportunities/{made['id']}").json["title"] == "CRM 项目"
    patched = api.patch("zhang", f"/api/v1/opportunities/{made['id']}", {"competitor": "某某 CRM"}).json
    assert patched["competitor"] == "某某 CRM"
    url = f"/api/v1/opportunities/{made['id']}/stage"
    problem(api.post("zhang", url, {"stage_id": api.stages["输单"]}, status=422), 422, "lost_reason_required")
    lost = api.post("zhang", url, {"stage_id": api.stages["输单"], "lost_reason": "预算取消"}).json
    assert (lost["status"], lost["lost_reason"], lost["probability"]) == ("lost", "预算取消", 0)
    won = api.post("zhang", url, {"stage_id": api.stages["赢单"]}).json
    assert (won["status"], won["lost_reason"]) == ("won", None)
    listed = api.get("wang", "/api/v1/opportunities?status=won").json
    assert [item["id"] for item in listed["items"]] == [made["id"]]


@pytest.mark.parametrize("body", [{"amount": "-1"}, {"amount": "abc"}, {"expected_close": "2026-13-45"},
                                  {"expected_close": "31/12/2026"}, {"probability": 120}, {"title": ""}])
def test_bad_input_is_a_translated_problem_and_nothing_is_written(api, body):
    sent = {"customer_id": api.users["customer"], "title": "坏数据", **body}
    refused = problem(api.post("zhang", "/api/v1/opportunities", sent, status=422), 422, "validation_failed")
    assert refused["errors"]
    assert count(api) == 0


def test_a_stage_of_another_pipeline_is_refused(api):
    with api.env.ctx() as ctx:
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        other = pipelines.save_pipeline(admin, name="大客户流程", department_id=None, active=True, stages=[
            {"name": "立项", "probability": 20, "kind": "open"}, {"name": "签约", "probability": 100, "kind": "won"},
            {"name": "丢单", "probability": 0, "kind": "lost"}])
        foreign = ctx.dbsession.scalars(select(Stage.id).where(Stage.pipeline_id == other.id)).first()
        default = ctx.dbsession.scalars(select(Pipeline.id).order_by(Pipeline.id)).first()
    made = api.post("zhang", "/api/v1/opportunities", {"customer_id": api.users["customer"], "title": "跨流程",
                                                       "pipeline_id": default}, status=201).json
    problem(api.post("zhang", f"/api/v1/opportunities/{made['id']}/stage", {"stage_id": foreign}, status=422), 422,
            "stage_not_in_pipeline")
    assert api.get("zhang", f"/api/v1/opportunities/{made['id']}").json["stage_id"] == made["stage_id"]
