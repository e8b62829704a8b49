"""The lead pools (线索池, L1–L2): who sees which pool, batch claims all or none within the
daily and open-lead limits, a claim race won by exactly one, return with a reason, the hourly
automatic return, and the pools' own settings."""

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from addons.leads import pool as pools
from addons.leads import services
from addons.leads.exceptions import (
    LeadAlreadyClaimed,
    LeadClaimLimitDaily,
    LeadClaimLimitOpen,
    LeadInPool,
    LeadPoolInUse,
    LeadPoolLimitInvalid,
    LeadPoolNameRequired,
    LeadPoolUnavailable,
    LeadReturnReasonRequired,
)
from addons.leads.models import Lead, LeadMove, LeadPool
from core.access.exceptions import PermissionDenied
from core.models import AuditEntry
from core.notifications.models import Notification

from .conftest import as_user


def _company_pool(ctx):
    return ctx.dbsession.scalars(select(LeadPool).where(LeadPool.department_id.is_(None))).one()


def _pool_with(env, names, **settings):
    """A pool (the company-wide one, or a new one with ``settings``) holding leads ``names``."""
    with env.ctx() as ctx:
        pool = pools.save_pool(ctx, name="华东线索池", **settings) if settings else _company_pool(ctx)
        ids = [services.create_lead(ctx, name=name, pool_id=pool.id).id for name in names]
        return pool.id, ids


def test_a_lead_created_into_a_pool_has_no_owner_and_members_see_it(company):
    env, users = company
    east_pool, (east_lead,) = _pool_with(env, ["华东某公司"], department_id=users["east"])
    _company, (open_lead,) = _pool_with(env, ["全公司可领的线索"])
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, east_lead).owner_id is None

        def visible(user):
            condition = pools.pool_leads_condition(as_user(ctx, users[user]))
            return set(ctx.dbsession.scalars(select(Lead.id).where(condition)))

        assert visible("zhang") == {east_lead, open_lead}  # 华东 and company-wide
        assert visible("zhao") == {open_lead}  # 华南 sees only the company-wide pool
        with pytest.raises(LeadPoolUnavailable):
            pools.claim_leads(as_user(ctx, users["zhao"]), [east_lead])
        with pytest.raises(LeadPoolUnavailable):
            services.create_lead(as_user(ctx, users["zhao"]), name="放进别人的池", pool_id=east_pool)


def test_a_batch_claim_takes_all_and_is_audited(company):
    env, users = company
    _pool_id, ids = _pool_with(env, ["线索一", "线索二", "线索三"])
    with env.ctx() as ctx:
        claimed = pools.claim_leads(as_user(ctx, users["zhang"]), ids)
        assert [lead.owner_id for lead in claimed] == [users["zhang"]] * 3
    with env.ctx() as ctx:
        assert all(lead.acquired_at is not None for lead in ctx.dbsession.scalars(select(Lead)))
        assert ctx.dbsession.scalar(select(func.count()).select_from(LeadMove).where(LeadMove.action == "claimed")) == 3
        audited = ctx.dbsession.scalars(select(AuditEntry.changes).where(
            AuditEntry.model == "leads_lead", AuditEntry.action == "update")).all()
        assert audited == [{"owner_id": [None, users["zhang"]]}] * 3
        with pytest.raises(LeadAlreadyClaimed) as taken:
            pools.claim_leads(as_user(ctx, users["lisi"]), ids[:1])
        assert taken.value.params["owner"] == "张三"


def test_limits_refuse_the_whole_batch_with_what_is_left(company):
    env, users = company
    _pool_id, ids = _pool_with(env, [f"线索{n}" for n in range(5)], max_claims_per_day=3)
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        pools.claim_leads(zhang, ids[:2])
        with pytest.raises(LeadClaimLimitDaily) as daily:
            pools.claim_leads(zhang, ids[2:])
        assert daily.value.params == {"limit": 3, "claimed": 2, "left": 1, "pool": "华东线索池"}
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead).where(Lead.owner_id.is_(None))) == 3

    with env.ctx() as ctx:
        capped = pools.save_pool(ctx, name="限量池", max_open_per_user=2)
        more = [services.create_lead(ctx, name=f"限量{n}", pool_id=capped.id).id for n in range(2)]
    with env.ctx() as ctx:
        with pytest.raises(LeadClaimLimitOpen) as open_:
            pools.claim_leads(as_user(ctx, users["zhang"]), more[:1])  # zhang already works 2 open leads
        assert open_.value.params["open"] == 2 and open_.value.params["left"] == 0
        assert pools.claim_leads(as_user(ctx, users["lisi"]), more)  # lisi has none


def test_two_people_claiming_one_lead_at_once_one_wins(company, database_url):
    """Both pass every check, then race for the row: the conditional UPDATE lets one through."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the race needs two concurrent transactions")
    env, users = company
    _pool_id, (lead_id,) = _pool_with(env, ["抢手线索"])
    barrier = threading.Barrier(2, timeout=20)
    outcomes = {}
    original = pools._check_limits

    def check_then_wait(*args):
        original(*args)
        barrier.wait()  # both transactions have read the lead as unowned

    def claim(who):
        try:
            with env.ctx() as ctx:
                pools.claim_leads(as_user(ctx, users[who]), [lead_id])
            outcomes[who] = "claimed"
        except LeadAlreadyClaimed as refused:
            outcomes[who] = refused.params["owner"]

    pools._check_limits = check_then_wait
    try:
        threads = [threading.Thread(target=claim, args=(who,)) for who in ("zhang", "lisi")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        pools._check_limits = original
    assert sorted(outcomes.values()) in (["claimed", "张三"], ["claimed", "李四"])
    winner = next(who for who, outcome in outcomes.items() if outcome == "claimed")
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, lead_id).owner_id == users[winner]
        assert ctx.dbsession.scalar(select(func.count()).select_from(LeadMove)) == 1


def test_return_needs_a_reason_and_puts_the_lead_back(company):
    env, users = company
    with env.ctx() as ctx:
        pool_id = _company_pool(ctx).id
        zhang = as_user(ctx, users["zhang"])
        lead_id = services.create_lead(zhang, name="暂无需求的线索").id
        with pytest.raises(LeadReturnReasonRequired):
            pools.return_lead(zhang, lead_id, pool_id, "  ")
        pools.return_lead(zhang, lead_id, pool_id, "客户明年再说")
        with pytest.raises(LeadInPool):
            pools.return_lead(ctx, lead_id, pool_id, "再退一次")
    with env.ctx() as ctx:
        lead = ctx.dbsession.get(Lead, lead_id)
        assert (lead.owner_id, lead.pool_id, lead.acquired_at) == (None, pool_id, None)
        move = ctx.dbsession.scalars(select(LeadMove)).one()
        assert (move.action, move.previous_owner_id, move.reason) == ("returned", users["zhang"], "客户明年再说")


def test_leads_nobody_follows_up_go_back_by_the_hour_and_their_owner_is_told(company):
    env, users = company
    with env.ctx() as ctx:
        pool = pools.save_pool(ctx, name="七天池", return_after_days=7)
        zhang = as_user(ctx, users["zhang"])
        stale, fresh, followed = (services.create_lead(zhang, name=name, pool_id=pool.id).id
                                  for name in ("久未跟进", "刚领取", "有跟进"))
        pools.claim_leads(zhang, [stale, fresh, followed])
        ctx.dbsession.get(Lead, stale).acquired_at = ctx.now - dt.timedelta(days=8)
        ctx.dbsession.get(Lead, followed).acquired_at = ctx.now - dt.timedelta(days=8)
        ctx.dbsession.get(Lead, followed).last_followup_at = ctx.now - dt.timedelta(days=2)
    with env.ctx() as ctx:
        assert pools.auto_return_due(ctx) == {"returned": 1}
        assert pools.auto_return_due(ctx) == {"returned": 0}  # once
    with env.ctx() as ctx:
        owners = dict(ctx.dbsession.execute(select(Lead.id, Lead.owner_id)).all())
        assert owners == {stale: None, fresh: users["zhang"], followed: users["zhang"]}
        note = ctx.dbsession.scalars(select(Notification).where(Notification.kind == "leads.returned")).one()
        assert note.user_id == users["zhang"] and "久未跟进" in note.body


def test_pool_settings_are_checked_and_a_pool_holding_leads_stays_active(company):
    env, users = company
    with env.ctx() as ctx:
        with pytest.raises(LeadPoolNameRequired):
            pools.save_pool(ctx, name=" ")
        with pytest.raises(LeadPoolLimitInvalid):
            pools.save_pool(ctx, name="坏池", max_claims_per_day="0")
        with pytest.raises(LeadPoolLimitInvalid):
            pools.save_pool(ctx, name="坏池", return_after_days="七")
        with pytest.raises(PermissionDenied):
            pools.save_pool(as_user(ctx, users["wang"]), name="经理不能建池")
        company_pool = _company_pool(ctx)
        with pytest.raises(LeadPoolInUse):
            pools.save_pool(ctx, company_pool.id, active=False)  # the last active pool
        spare = pools.save_pool(ctx, name="备用池")
        services.create_lead(ctx, name="池中线索", pool_id=spare.id)
        with pytest.raises(LeadPoolInUse):
            pools.save_pool(ctx, spare.id, active=False)  # it still holds a lead
        pools.save_pool(ctx, company_pool.id, active=False)
    with env.ctx() as ctx:
        assert [p.name for p in pools.pools_for(as_user(ctx, users["zhang"]))] == ["备用池"]
