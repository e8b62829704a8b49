"""Opportunities as the services keep them (S1–S2): defaults from the pipeline, bad input
refused with nothing written, stage moves with their history, won and lost, the people told,
the overdue notice once per date, the record scope."""

import datetime as dt
import decimal

import pytest
from sqlalchemy import func, select

from addons.customers import services as customers
from addons.opportunities import pipelines, services
from addons.opportunities.exceptions import (
    AmountInvalid,
    CloseDateInvalid,
    LostReasonRequired,
    ProbabilityInvalid,
    StageNotInPipeline,
    TitleRequired,
)
from addons.opportunities.models import Opportunity, Pipeline, Stage, StageChange
from core.access.exceptions import RecordNotFound
from core.access.members import RecordMember
from core.models import AuditEntry, User
from core.notifications.models import Notification

from .conftest import as_user


def stages(ctx, pipeline=None):
    pipeline = pipeline or ctx.dbsession.scalars(select(Pipeline).order_by(Pipeline.id)).first()
    return {s.name: s for s in ctx.dbsession.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id))}


def make(env, users, who="zhang", **fields):
    with env.ctx() as ctx:
        fields.setdefault("title", "CRM 项目")
        return services.create_opportunity(as_user(ctx, users[who]), customer_id=users["customer"], **fields).id


def count(env, model):
    with env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model))


def test_a_new_opportunity_takes_the_default_pipelines_first_stage(company):
    env, users = company
    opportunity_id = make(env, users, amount="1,200.50", expected_close="2027-03-31")
    with env.ctx() as ctx:
        found = ctx.dbsession.get(Opportunity, opportunity_id)
        first = stages(ctx)["初步接洽"]
        assert (found.stage_id, found.status, found.probability, found.owner_id) == (first.id, "open", 10,
                                                                                    users["zhang"])
        assert (found.amount, found.expected_close) == (decimal.Decimal("1200.50"), dt.date(2027, 3, 31))
        assert [c.to_stage_id for c in ctx.dbsession.scalars(select(StageChange))] == [first.id]
        audit = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.model == "opportunities_opportunity")).one()
        assert audit.action == "create" and audit.record_id == str(opportunity_id)


@pytest.mark.parametrize(("fields", "error"), [
    ({"amount": "-1"}, AmountInvalid),
    ({"amount": "一万"}, AmountInvalid),
    ({"amount": "1e20"}, AmountInvalid),
    ({"expected_close": "2026-13-45"}, CloseDateInvalid),
    ({"expected_close": "next week"}, CloseDateInvalid),
    ({"probability": 101}, ProbabilityInvalid),
    ({"title": "  "}, TitleRequired),
])
def test_bad_input_is_refused_and_nothing_is_written(company, fields, error):
    env, users = company
    with pytest.raises(error):
        make(env, users, **fields)
    assert count(env, Opportunity) == 0 and count(env, StageChange) == 0


def test_a_stage_of_another_pipeline_is_refused(company):
    env, users = company
    with env.ctx() as ctx:
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        other = pipelines.save_pipeline(admin, name="大客户流程", department_id=None, active=True, stages=[
            {"name": "立项", "probability": 20, "kind": "open"}, {"name": "签约", "probability": 100, "kind": "won"},
            {"name": "丢单", "probability": 0, "kind": "lost"}])
        foreign = stages(ctx, other)["立项"].id
    with pytest.raises(StageNotInPipeline):
        make(env, users, stage_id=foreign)
    opportunity_id = make(env, users)
    with env.ctx() as ctx, pytest.raises(StageNotInPipeline):
        services.move_stage(as_user(ctx, users["zhang"]), opportunity_id, foreign)
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Opportunity, opportunity_id).stage_id == stages(ctx)["初步接洽"].id
        assert ctx.dbsession.scalar(select(func.count()).select_from(StageChange)) == 1


def test_moves_win_lose_and_reopen_with_history_and_notices(company):
    env, users = company
    opportunity_id = make(env, users, amount="80000")
    with env.ctx() as ctx:
        ctx.dbsession.add(RecordMember(model="opportunities_opportunity", record_id=opportunity_id,
                                       user_id=users["lisi"], can_write=False))
    with env.ctx() as ctx:
        zhang, named = as_user(ctx, users["zhang"]), stages(ctx)
        services.move_stage(zhang, opportunity_id, named["方案报价"].id)
        found = ctx.dbsession.get(Opportunity, opportunity_id)
        assert (found.status, found.probability, found.closed_at) == ("open", 60, None)
        with pytest.raises(LostReasonRequired):
            services.move_stage(zhang, opportunity_id, named["输单"].id, lost_reason="  ")
        services.move_stage(zhang, opportunity_id, named["赢单"].id)
        assert (found.status, found.probability, found.closed_at is not None) == ("won", 100, True)
    with env.ctx() as ctx:
        kinds = {(n.user_id, n.kind) for n in ctx.dbsession.scalars(select(Notification))}
        # the collaborator and the department's manager hear of it; the owner acted himself
        assert kinds == {(users["lisi"], "opportunities.stage_changed"), (users["wang"], "opportunities.stage_changed"),
                         (users["lisi"], "opportunities.won"), (users["wang"], "opportunities.won")}
    with env.ctx() as ctx:
        wang, named = as_user(ctx, users["wang"]), stages(ctx)
        services.move_stage(wang, opportunity_id, named["输单"].id, lost_reason="价格高于竞品")
        found = ctx.dbsession.get(Opportunity, opportunity_id)
        assert (found.status, found.lost_reason, found.probability) == ("lost", "价格高于竞品", 0)
        services.move_stage(wang, opportunity_id, named["谈判审核"].id)
        assert (found.status, found.lost_reason, found.closed_at) == ("open", None, None)
        history = services.stage_history(as_user(ctx, users["zhang"]), opportunity_id)
        assert [h["stage"].name for h in history] == ["初步接洽", "方案报价", "赢单", "输单", "谈判审核"]
        assert history[-1]["current"] and all(h["duration"] >= dt.timedelta(0) for h in history)
        owner_heard = {n.kind for n in ctx.dbsession.scalars(select(Notification).where(
            Notification.user_id == users["zhang"]))}
        assert owner_heard == {"opportunities.lost", "opportunities.stage_changed"}  # wang moved it


def test_the_overdue_notice_goes_once_per_close_date(company):
    env, users = company
    opportunity_id = make(env, users, expected_close="2020-01-31")
    for _run in range(2):
        with env.ctx() as ctx:
            assert services.notify_overdue(ctx) == {"notified": 1 if _run == 0 else 0}
    with env.ctx() as ctx:
        services.update_opportunity(as_user(ctx, users["zhang"]), opportunity_id, expected_close="2020-02-29")
    with env.ctx() as ctx:
        assert services.notify_overdue(ctx) == {"notified": 1}
        notices = ctx.dbsession.scalars(select(Notification).where(Notification.kind == "opportunities.overdue")).all()
        assert sorted(n.user_id for n in notices) == sorted([users["zhang"], users["wang"]] * 2)


def test_the_scope_matrix(company):
    env, users = company
    with env.ctx() as ctx:
        south_customer = customers.create_customer(as_user(ctx, users["zhao"]), name="广州南方贸易").id
        lisis_customer = customers.create_customer(as_user(ctx, users["lisi"]), name="宁波海联贸易").id
    mine = make(env, users)
    with env.ctx() as ctx:
        with pytest.raises(RecordNotFound):  # not for a customer one cannot see
            services.create_opportunity(as_user(ctx, users["lisi"]), customer_id=users["customer"], title="越权")
        lisis = services.create_opportunity(as_user(ctx, users["lisi"]), customer_id=lisis_customer, title="海联").id
        theirs = services.create_opportunity(as_user(ctx, users["zhao"]), customer_id=south_customer, title="南方").id
    seen = {}
    with env.ctx() as ctx:
        for who in ("zhang", "lisi", "wang", "zhao"):
            seen[who] = set(ctx.dbsession.scalars(services.in_scope(as_user(ctx, users[who])).with_only_columns(
                Opportunity.id)))
        with pytest.raises(RecordNotFound):
            services.update_opportunity(as_user(ctx, users["lisi"]), mine, title="改名")
    assert seen == {"zhang": {mine}, "lisi": {lisis}, "wang": {mine, lisis}, "zhao": {theirs}}
