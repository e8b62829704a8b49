"""The public pool (公海): claiming with its limits, returning with a reason, automatic return
with its warning (time travel through ``ctx.now``), visibility by department, audit, and two
people claiming one customer at once on PostgreSQL."""

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from addons.customers import pool as pools
from addons.customers import services
from addons.customers.exceptions import (
    AlreadyClaimed,
    ClaimLimitDaily,
    ClaimLimitOwned,
    PoolUnavailable,
    ReasonRequired,
    ReclaimBlocked,
)
from addons.customers.models import Contact, Customer, PoolMove
from core.access.exceptions import RecordNotFound
from core.i18n import localizer_for
from core.models import AuditEntry, User
from core.notifications.models import Notification
from core.org.services import create_department, root_department


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def later(ctx, **delta):
    return dataclasses.replace(ctx, now=ctx.now + dt.timedelta(**delta))


def _pool_with(env, names, **rules):
    """A company-wide pool holding new customers named ``names``: ``(pool_id, [customer ids])``."""
    with env.ctx() as ctx:
        pool = pools.save_pool(ctx, name="公司公海", **rules)
        ids = []
        for name in names:
            customer = services.create_customer(ctx, name=name)
            customer.pool_id = pool.id
            services.add_contact(ctx, customer.id, name="联系人" + name[:2])
            ids.append(customer.id)
        ctx.dbsession.flush()
        return pool.id, ids


def test_claim_takes_the_customer_and_its_contacts_and_is_audited(company):
    env, users = company
    pool_id, (first, second) = _pool_with(env, ["甲科技有限公司", "乙科技有限公司"])
    with env.ctx() as ctx:
        claimed = pools.claim_from_pool(as_user(ctx, users["zhang"]), [first, second])
        assert [(c.owner_id, c.pool_id) for c in claimed] == [(users["zhang"], pool_id)] * 2
        assert all(c.acquired_at is not None for c in claimed)
        owners = set(ctx.dbsession.scalars(select(Contact.owner_id).where(Contact.customer_id.in_([first, second]))))
        assert owners == {users["zhang"]}
        moves = ctx.dbsession.scalars(select(PoolMove).order_by(PoolMove.id)).all()
        assert [(m.customer_id, m.action, m.user_id) for m in moves] == [(first, "claimed", users["zhang"]),
                                                                          (second, "claimed", users["zhang"])]
        audited = ctx.dbsession.scalars(select(AuditEntry.record_id).where(
            AuditEntry.model == "customers_customer", AuditEntry.action == "update")).all()
        assert sorted(audited) == sorted([str(first), str(second)])
        assert [m.action for m in pools.pool_moves(ctx, first)] == ["claimed"]


def test_an_owned_customer_cannot_be_claimed(company):
    env, users = company
    _pool_id, (customer_id,) = _pool_with(env, ["丙贸易有限公司"])
    with env.ctx() as ctx:
        pools.claim_from_pool(as_user(ctx, users["zhang"]), [customer_id])
    with env.ctx() as ctx, pytest.raises(AlreadyClaimed) as refused:
        pools.claim_from_pool(as_user(ctx, users["lisi"]), [customer_id])
    assert refused.value.params == {"name": "丙贸易有限公司", "owner": "张三"}


def test_the_owned_limit_counts_the_batch(company):
    env, users = company
    _pool_id, ids = _pool_with(env, ["一号公司", "二号公司", "三号公司"], max_owned=2)
    with env.ctx() as ctx:
        services.create_customer(as_user(ctx, users["zhang"]), name="自己的公司")
    with env.ctx() as ctx, pytest.raises(ClaimLimitOwned) as refused:
        pools.claim_from_pool(as_user(ctx, users["zhang"]), ids[:2])
    assert refused.value.params == {"limit": 2, "owned": 1, "left": 1, "pool": "公司公海"}
    text = localizer_for("zh_CN").translate(refused.value.translation_string)
    assert "2" in text and "1" in text
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id == users["zhang"])) == 1  # all or none
        pools.claim_from_pool(as_user(ctx, users["zhang"]), ids[:1])


def test_the_daily_limit_resets_the_next_day(company):
    env, users = company
    _pool_id, ids = _pool_with(env, ["一号公司", "二号公司", "三号公司"], max_claims_per_day=2)
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        pools.claim_from_pool(zhang, ids[:2])
        with pytest.raises(ClaimLimitDaily) as refused:
            pools.claim_from_pool(zhang, ids[2:])
        assert refused.value.params == {"limit": 2, "claimed": 2, "left": 0, "pool": "公司公海"}
        pools.claim_from_pool(later(zhang, days=1), ids[2:])


def test_a_previous_owner_waits_before_reclaiming(company):
    env, users = company
    pool_id, (customer_id,) = _pool_with(env, ["丁物流有限公司"], reclaim_block_days=7)
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        pools.claim_from_pool(zhang, [customer_id])
        pools.return_to_pool(zhang, customer_id, pool_id, "客户暂无需求")
        with pytest.raises(ReclaimBlocked) as refused:
            pools.claim_from_pool(later(zhang, days=6), [customer_id])
        assert refused.value.params["days"] == 7 and refused.value.params["name"] == "丁物流有限公司"
        pools.claim_from_pool(as_user(ctx, users["lisi"]), [customer_id])  # others may
        lisi = as_user(ctx, users["lisi"])
        pools.return_to_pool(lisi, customer_id, pool_id, "转给别人")
        pools.claim_from_pool(later(zhang, days=8), [customer_id])


def test_return_needs_a_reason_and_the_right_to_change_the_customer(company):
    env, users = company
    pool_id, (customer_id,) = _pool_with(env, ["戊科技有限公司"])
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        pools.claim_from_pool(zhang, [customer_id])
        with pytest.raises(ReasonRequired):
            pools.return_to_pool(zhang, customer_id, pool_id, "   ")
        with pytest.raises(RecordNotFound):
            pools.return_to_pool(as_user(ctx, users["lisi"]), customer_id, pool_id, "不是我的")
        customer = pools.return_to_pool(zhang, customer_id, pool_id, "客户已停业")
        assert (customer.owner_id, customer.pool_id) == (None, pool_id)
        assert ctx.dbsession.scalars(select(Contact.owner_id).where(Contact.customer_id == customer_id)).all() == [None]
        move = pools.pool_moves(ctx, customer_id)[0]
        assert (move.action, move.reason, move.previous_owner_id) == ("returned", "客户已停业", users["zhang"])


def test_auto_return_without_followup_warns_once_before(company):
    env, users = company
    _pool_id, (quiet, busy) = _pool_with(env, ["静默公司", "活跃公司"], return_after_days_without_followup=30,
                                         warn_days_before=3)
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        pools.claim_from_pool(zhang, [quiet, busy])
        services.add_followup(later(zhang, days=20), busy, kind="phone", content="聊了需求")
        assert pools.auto_return_due(later(ctx, days=26)) == {"returned": 0, "warned": 0}
        assert pools.auto_return_due(later(ctx, days=28)) == {"returned": 0, "warned": 1}
        assert pools.auto_return_due(later(ctx, days=29)) == {"returned": 0, "warned": 0}  # once
        assert pools.auto_return_due(later(ctx, days=31)) == {"returned": 1, "warned": 0}
        assert ctx.dbsession.get(Customer, quiet).owner_id is None
        assert ctx.dbsession.get(Customer, busy).owner_id == users["zhang"]
        kinds = ctx.dbsession.scalars(select(Notification.kind).where(Notification.user_id == users["zhang"])).all()
        assert kinds.count("customers.pool_warning") == 2  # the warning, then the return
        move = pools.pool_moves(ctx, quiet)[0]
        assert (move.action, move.reason, move.previous_owner_id) == ("auto_returned", "followup:30", users["zhang"])
        assert pools.auto_return_due(later(ctx, days=48)) == {"returned": 0, "warned": 1}  # busy's own clock


def test_auto_return_without_deal_keeps_won_customers(company):
    env, users = company
    _pool_id, (open_, won) = _pool_with(env, ["未成交公司", "已成交公司"], return_after_days_without_deal=60)
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        pools.claim_from_pool(zhang, [open_, won])
        services.update_customer(zhang, won, deal_status="won")
        assert pools.auto_return_due(later(ctx, days=59)) == {"returned": 0, "warned": 0}
        assert pools.auto_return_due(later(ctx, days=61)) == {"returned": 1, "warned": 0}
        assert ctx.dbsession.get(Customer, open_).owner_id is None
        assert ctx.dbsession.get(Customer, won).owner_id == users["zhang"]


def test_pools_are_seen_by_department(company):
    env, users = company
    with env.ctx() as ctx:
        root = root_department(ctx).id
        east = ctx.dbsession.get(User, users["zhang"]).department_id
        team = create_department(ctx, "华东一组", east).id
        south = create_department(ctx, "华南大区", root).id
        ctx.dbsession.get(User, users["lisi"]).department_id = team
        east_pool = pools.save_pool(ctx, name="华东公海", department_id=east)
        south_pool = pools.save_pool(ctx, name="华南公海", department_id=south)
        company_pool = pools.save_pool(ctx, name="公司公海")
        customer = services.create_customer(ctx, name="华南客户有限公司")
        customer.pool_id = south_pool.id
        ctx.dbsession.flush()
        ids = (east_pool.id, south_pool.id, company_pool.id, customer.id)
    east_id, _south_id, company_id, customer_id = ids
    with env.ctx() as ctx:
        assert {p.id for p in pools.pools_for(as_user(ctx, users["zhang"]))} == {east_id, company_id}
        assert {p.id for p in pools.pools_for(as_user(ctx, users["lisi"]))} == {east_id, company_id}  # from above
        assert len(pools.pools_for(ctx)) == 3  # the system (pool admins) sees them all
        with pytest.raises(PoolUnavailable):
            pools.claim_from_pool(as_user(ctx, users["zhang"]), [customer_id])
        visible = select(func.count()).select_from(Customer).where(
            pools.pool_customers_condition(as_user(ctx, users["zhang"])))
        assert ctx.dbsession.scalar(visible) == 0


def test_two_people_claiming_one_customer_at_once_one_wins(company, database_url):
    """Both pass every check, then race for the row: the conditional UPDATE lets one through."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the race needs two concurrent transactions")
    env, users = company
    _pool_id, (customer_id,) = _pool_with(env, ["抢手科技有限公司"])
    barrier = threading.Barrier(2, timeout=20)
    outcomes = {}
    original = pools.check_claim_limits

    def check_then_wait(*args):
        original(*args)
        barrier.wait()  # both transactions have read the customer as unowned

    def claim(who):
        try:
            with env.ctx() as ctx:
                pools.claim_from_pool(as_user(ctx, users[who]), [customer_id])
            outcomes[who] = "claimed"
        except AlreadyClaimed as refused:
            outcomes[who] = refused.params["owner"]

    pools.check_claim_limits = check_then_wait
    try:
        threads = [threading.Thread(target=claim, args=(who,)) for who in ("zhang", "lisi")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        pools.check_claim_limits = original
    assert sorted(outcomes.values()) in (["claimed", "张三"], ["claimed", "李四"])
    winner = next(who for who, outcome in outcomes.items() if outcome == "claimed")
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, customer_id).owner_id == users[winner]
        assert ctx.dbsession.scalar(select(func.count()).select_from(PoolMove)) == 1
