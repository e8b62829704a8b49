"""The demo opportunities (``kehu demo``): on a database with opportunities installed, the demo
data hook gives the demo customers' owners opportunities in every stage and status, with a
history of several stages spread over the last months, collaborators, lost reasons, a second
pipeline for 华东大区, monthly targets for the salespeople and a forecast to read — the same on
every run, and once only."""

import datetime as dt
import decimal
from collections import Counter

from sqlalchemy import func, select

from addons.customers.models import Customer
from addons.opportunities import reports
from addons.opportunities.demo import BIG_PIPELINE, LOST_REASONS
from addons.opportunities.models import Opportunity, Pipeline, Stage, StageChange, Target
from core.access.members import RecordMember
from core.addons.installer import install_addons
from core.models import AuditEntry, User
from core.notifications.models import Notification


def _counts(ctx):
    return {model.__tablename__: ctx.dbsession.scalar(select(func.count()).select_from(model))
            for model in (Opportunity, StageChange, Target, Pipeline, Stage, RecordMember, Notification)}


def _snapshot(ctx):
    return ctx.dbsession.execute(select(Opportunity.title, Opportunity.customer_id, Opportunity.owner_id,
                                        Opportunity.stage_id, Opportunity.amount, Opportunity.expected_close)
                                 .order_by(Opportunity.id)).all()


def test_the_demo_opportunities_are_varied_consistent_and_made_once(kehu_db, cli_env, catalog):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["opportunities"])
    with env.ctx() as ctx:
        ctx.hooks.kehu_demo_data(ctx=ctx)
    with env.ctx() as ctx:
        first, counts = _snapshot(ctx), _counts(ctx)
        now, today = ctx.now, ctx.now.date()
        assert counts["opportunities_opportunity"] == 150
        statuses = Counter(ctx.dbsession.scalars(select(Opportunity.status)))
        assert statuses == {"open": 100, "won": 30, "lost": 20}

        # the customers' owners, every demo salesperson among them
        owners = ctx.dbsession.execute(select(Opportunity.owner_id, Customer.owner_id)
                                       .join(Customer, Customer.id == Opportunity.customer_id)).all()
        assert all(mine == theirs for mine, theirs in owners)
        logins = set(ctx.dbsession.scalars(select(User.username).join(Opportunity, Opportunity.owner_id == User.id)))
        assert {f"sales{n}" for n in range(1, 9)} <= logins

        # every stage of the default pipeline holds some; the big customers' pipeline a dozen
        default = ctx.dbsession.scalars(select(Pipeline).where(Pipeline.department_id.is_(None))).one()
        big = ctx.dbsession.scalars(select(Pipeline).where(Pipeline.name == BIG_PIPELINE)).one()
        assert big.department_id is not None
        held = Counter(ctx.dbsession.scalars(select(Opportunity.stage_id).where(Opportunity.pipeline_id == default.id)))
        assert all(held[stage_id] >= 10 for stage_id in ctx.dbsession.scalars(
            select(Stage.id).where(Stage.pipeline_id == default.id)))
        assert ctx.dbsession.scalar(select(func.count()).where(Opportunity.pipeline_id == big.id)) == 12

        amounts = ctx.dbsession.scalars(select(Opportunity.amount)).all()
        assert all(decimal.Decimal(5000) <= a <= decimal.Decimal(2_000_000) for a in amounts)
        assert len(set(amounts)) > 80
        closes = ctx.dbsession.scalars(select(Opportunity.expected_close)).all()
        assert all(today - dt.timedelta(days=125) <= d <= today + dt.timedelta(days=183) for d in closes)

        lost = ctx.dbsession.execute(select(Opportunity.lost_reason, Opportunity.competitor)
                                     .where(Opportunity.status == "lost")).all()
        assert {reason for reason, _competitor in lost} <= set(LOST_REASONS) and len({r for r, _c in lost}) >= 3
        assert all(competitor for reason, competitor in lost if reason == "选择了竞品")
        assert counts["core_record_member"] >= 20  # collaborators

        # history of several stages, spread over the last months, ending with the current stage
        changes = ctx.dbsession.execute(select(StageChange.opportunity_id, StageChange.to_stage_id, StageChange.at)
                                        .order_by(StageChange.opportunity_id, StageChange.at, StageChange.id)).all()
        by_opportunity = {}
        for opportunity_id, stage_id, at in changes:
            by_opportunity.setdefault(opportunity_id, []).append((stage_id, at))
        rows = {o.id: o for o in ctx.dbsession.scalars(select(Opportunity))}
        assert all(steps[-1][0] == rows[i].stage_id for i, steps in by_opportunity.items())
        assert all(steps[0][1] == rows[i].created_at for i, steps in by_opportunity.items())
        assert sum(len(steps) >= 3 for steps in by_opportunity.values()) >= 60
        assert min(at for _i, _s, at in changes) < now - dt.timedelta(days=90)
        assert all(at <= now for _i, _s, at in changes)
        closed = [o for o in rows.values() if o.status != "open"]
        assert all(o.closed_at == by_opportunity[o.id][-1][1] and o.closed_at < now for o in closed)
        assert all(o.updated_at < now for o in rows.values())
        assert all(o.scored_at is not None for o in rows.values())
        assert any(o.score != rows[min(rows)].score for o in rows.values())
        audited = ctx.dbsession.scalars(select(AuditEntry.at).where(AuditEntry.model == "opportunities_opportunity",
                                                                   AuditEntry.action == "create")).all()
        assert len(audited) == 150 and min(audited) < now - dt.timedelta(days=60)

        # targets for every salesperson and month of this year
        year = reports.current_year(ctx)
        targets = ctx.dbsession.execute(select(User.username, Target.month).join(User, User.id == Target.user_id)).all()
        assert len(targets) == 8 * 12
        assert {month.year for _login, month in targets} == {year}
        assert {login for login, _month in targets} == {f"sales{n}" for n in range(1, 9)}

        # the reports have something to show
        admin = ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())
        forecast = reports.forecast_by_month(admin)
        assert len(forecast) >= 6 and sum(row.count for row in forecast) == 100
        assert all(row.weighted > 0 for row in forecast)
        stage_rows = reports.stage_report(admin, default.id)
        assert all(row.reached for row in stage_rows) and any(row.average_days for row in stage_rows)
        assert reports.average_cycle_days(admin) > 10
        assert not ctx.dbsession.scalar(select(func.count()).select_from(Notification).where(
            Notification.read_at.is_(None), Notification.created_at < now - dt.timedelta(days=8)))

    with env.ctx() as ctx:
        ctx.hooks.kehu_demo_data(ctx=ctx)  # twice: nothing more
    with env.ctx() as ctx:
        assert _counts(ctx) == counts
        assert _snapshot(ctx) == first
