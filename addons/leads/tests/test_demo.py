"""The demo leads (``kehu demo``): on a database with leads installed, the demo data hook gives
the demo salespeople leads in every status, some waiting in the pools, follow-ups, assignment
rules that gave some out, leads 查重 finds among the customers, and converted leads linked to
their customers — the same on every run, and once only."""

from collections import Counter

from sqlalchemy import func, select

from addons.customers.models import Customer
from addons.leads.duplicates import check_lead
from addons.leads.models import Lead, LeadAssignee, LeadFollowup, LeadMove, LeadPool, LeadRule
from core.addons.installer import install_addons
from core.models import AuditEntry, User
from core.notifications.models import Notification


def _counts(ctx):
    return {model.__tablename__: ctx.dbsession.scalar(select(func.count()).select_from(model))
            for model in (Lead, LeadFollowup, LeadMove, LeadPool, LeadRule, LeadAssignee, Customer)}


def _snapshot(ctx):
    return ctx.dbsession.execute(select(Lead.name, Lead.status, Lead.owner_id, Lead.pool_id, Lead.budget)
                                 .order_by(Lead.id)).all()


def test_the_demo_leads_are_varied_consistent_and_made_once(kehu_db, cli_env, catalog):
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["leads"])
    with env.ctx() as ctx:
        ctx.hooks.kehu_demo_data(ctx=ctx)
    with env.ctx() as ctx:
        first, counts = _snapshot(ctx), _counts(ctx)
        assert 115 <= counts["leads_lead"] <= 130
        assert first[0].name == "杭州汇通盛世建材有限公司"  # seeded: the same on every demo database
        statuses = Counter(ctx.dbsession.scalars(select(Lead.status)))
        assert set(statuses) == {"new", "contacting", "nurture", "qualified", "disqualified", "converted"}
        assert statuses["converted"] >= 10

        pools = dict(ctx.dbsession.execute(select(LeadPool.name, LeadPool.id)).all())
        assert set(pools) == {"公共线索池", "华东线索池"}
        waiting = Counter(ctx.dbsession.scalars(select(Lead.pool_id).where(Lead.owner_id.is_(None))))
        assert waiting[pools["公共线索池"]] >= 25 and waiting[pools["华东线索池"]] >= 3
        moves = Counter(ctx.dbsession.scalars(select(LeadMove.action)))
        assert moves["returned"] and moves["claimed"] and moves["assigned"]
        reasons = ctx.dbsession.scalars(select(LeadMove.reason).where(LeadMove.action == "returned")).all()
        assert all(reasons)  # a return always says why

        owners = set(ctx.dbsession.scalars(select(User.username).join(Lead, Lead.owner_id == User.id)))
        assert {f"sales{n}" for n in range(1, 9)} - {"sales5"} <= owners  # sales5 is on leave, but has leads
        worked = ctx.dbsession.scalar(select(func.count(func.distinct(LeadFollowup.lead_id))))
        assert worked >= 60
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead).where(
            Lead.status == "contacting", Lead.last_followup_at.is_(None), Lead.owner_id.is_not(None))) == 0

        rules = ctx.dbsession.scalars(select(LeadRule.strategy).where(LeadRule.active.is_(True))).all()
        assert sorted(rules) == ["round_robin", "user", "weighted"]
        assigned = ctx.dbsession.scalars(select(Notification.kind).where(Notification.kind == "leads.assigned")).all()
        assert len(assigned) >= 5  # the rules' assignments are notified

        converted = ctx.dbsession.execute(select(Lead.name, Customer.name, Lead.owner_id, Customer.owner_id)
                                          .join(Customer, Customer.id == Lead.customer_id)
                                          .where(Lead.status == "converted")).all()
        assert len(converted) == statuses["converted"]
        assert all(lead == customer and owner == customer_owner
                   for lead, customer, owner, customer_owner in converted)

        open_leads = ctx.dbsession.scalars(select(Lead).where(Lead.status == "new", Lead.owner_id.is_not(None))
                                           .order_by(Lead.id)).all()
        flagged = [lead for lead in open_leads if any(hit.customer_id for hit in check_lead(ctx, name=lead.name))]
        assert len(flagged) >= 3  # 查重 finds customers of the same company

        audited = ctx.dbsession.scalars(select(AuditEntry.model).where(AuditEntry.action == "import",
                                                                       AuditEntry.model.like("leads_%"))).all()
        assert sorted(audited) == ["leads_followup", "leads_lead", "leads_move"]

    with env.ctx() as ctx:
        ctx.hooks.kehu_demo_data(ctx=ctx)  # twice: nothing more
    with env.ctx() as ctx:
        assert _counts(ctx) == counts
        assert _snapshot(ctx) == first
