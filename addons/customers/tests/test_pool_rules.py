"""公海 rules beyond claim and return: membership and managers (D-POOL, D-SCOPE), return days per
customer level and locked customers (D-RETURN), the open-deal exemption through
``customers_pool_return_exempt`` (the fixture addon ``dealwatch``), assignment from the pool by
its manager (D-CLAIM), import into a pool, and one person's two parallel claims on PostgreSQL."""

import dataclasses
import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from addons.customers import imports, pool_assign, pool_lock, pool_members, pool_rules, services
from addons.customers import pool as pools
from addons.customers.exceptions import (
    AlreadyClaimed,
    AssigneeInactive,
    AssigneeNotMember,
    ClaimLimitDaily,
    ClaimLimitOwned,
    LockLimitReached,
    NotLockable,
    NotPoolManager,
    PoolLevelUnknown,
    PoolNotFound,
    PoolRuleInvalid,
)
from addons.customers.models import Contact, Customer, PoolMember, PoolMove, PoolRule
from core.access.exceptions import RecordNotFound
from core.addons.installer import install_addons
from core.i18n import localizer_for
from core.models import AuditEntry, User
from core.notifications.models import Notification
from core.org.services import create_department, root_department
from core.users.services import create_user, set_active
from tests.fixtures.addons.dealwatch.hooks import CALLS, OPEN_DEALS


@pytest.fixture
def catalog(catalog_of):
    """The customers addon and an opportunities stand-in implementing the exemption hook."""
    return catalog_of("addons.customers", "tests.fixtures.addons.dealwatch")


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def later(ctx, **delta):
    return dataclasses.replace(ctx, now=ctx.now + dt.timedelta(**delta))


def _pool(env, names, members=None, levels=None, **rules):
    """A pool holding new customers ``names`` (``{name: level}`` or a list):
    ``(pool_id, [customer ids])``; ``members`` as for ``pool_members.set_members``."""
    with env.ctx() as ctx:
        pool = pools.save_pool(ctx, name="公司公海", **rules)
        if members:
            pool_members.set_members(ctx, pool.id, **members)
        if levels:
            pool_rules.save_level_rules(ctx, pool.id, levels)
        ids = []
        for name in names:
            level = names[name] if isinstance(names, dict) else None
            customer = services.create_customer(ctx, name=name, level=level)
            customer.owner_id, customer.pool_id = None, pool.id
            services.add_contact(ctx, customer.id, name="联系人" + name[:2])
            ids.append(customer.id)
        ctx.dbsession.flush()
        ctx.dbsession.execute(Contact.__table__.update().values(owner_id=None))
        return pool.id, ids


# ---------------------------------------------------------------- membership


def test_pools_are_seen_by_membership(company):
    env, users = company
    with env.ctx() as ctx:
        south = create_department(ctx, "华南大区", root_department(ctx).id).id
        east = ctx.dbsession.get(User, users["zhang"]).department_id
        named = pools.save_pool(ctx, name="李四的公海")
        pool_members.set_members(ctx, named.id, users=[users["lisi"]])
        southern = pools.save_pool(ctx, name="华南公海")
        pool_members.set_members(ctx, southern.id, departments=[south], managers=[users["wang"]])
        eastern = pools.save_pool(ctx, name="华东公海")
        pool_members.set_members(ctx, eastern.id, departments=[east])
        everyone = pools.save_pool(ctx, name="公司公海")
        ids = {"named": named.id, "south": southern.id, "east": eastern.id, "all": everyone.id}
    with env.ctx() as ctx:
        seen = {who: {p.id for p in pools.pools_for(as_user(ctx, users[who]))} for who in ("zhang", "lisi", "wang")}
        assert seen["zhang"] == {ids["east"], ids["all"]}
        assert seen["lisi"] == {ids["named"], ids["east"], ids["all"]}
        assert seen["wang"] == {ids["south"], ids["east"], ids["all"]}  # a manager is a member
        assert len(pools.pools_for(ctx)) == 4  # pool admins see every pool
        assert pool_members.managed_pool_ids(as_user(ctx, users["wang"])) == {ids["south"]}
        assert pool_members.members_of(ctx, ids["south"]) == {"managers": [users["wang"]], "users": [],
                                                              "departments": [south]}
        audited = ctx.dbsession.scalars(select(AuditEntry.record_id).where(AuditEntry.model == "customers_pool",
                                                                           AuditEntry.action == "update")).all()
        assert sorted(audited) == sorted(str(ids[k]) for k in ("named", "south", "east"))


def test_a_member_claims_only_from_their_pools(company):
    env, users = company
    _pool_id, (customer_id,) = _pool(env, ["会员科技有限公司"], members={"users": [users["lisi"]]})
    with env.ctx() as ctx:
        with pytest.raises(Exception) as refused:
            pools.claim_from_pool(as_user(ctx, users["zhang"]), [customer_id])
        assert type(refused.value).__name__ == "PoolUnavailable"
        assert pools.claim_from_pool(as_user(ctx, users["lisi"]), [customer_id])[0].owner_id == users["lisi"]


# ---------------------------------------------------------------- assignment from the pool


def test_a_pool_manager_assigns_to_a_member_beyond_the_claim_limits(company):
    env, users = company
    pool_id, ids = _pool(env, ["一号公司", "二号公司", "三号公司"], max_owned=1, max_claims_per_day=1,
                         members={"managers": [users["wang"]], "users": [users["zhang"]]})
    with env.ctx() as ctx:
        assigned = pool_assign.assign_from_pool(as_user(ctx, users["wang"]), ids, users["zhang"])
        assert [(c.owner_id, c.pool_id) for c in assigned] == [(users["zhang"], pool_id)] * 3
        assert set(ctx.dbsession.scalars(select(Contact.owner_id).where(Contact.customer_id.in_(ids)))) == {
            users["zhang"]}
        moves = ctx.dbsession.scalars(select(PoolMove).order_by(PoolMove.id)).all()
        assert [(m.action, m.user_id, m.assignee_id) for m in moves] == [
            ("assigned", users["wang"], users["zhang"])] * 3
        notices = ctx.dbsession.scalars(select(Notification).where(Notification.user_id == users["zhang"])).all()
        assert [n.kind for n in notices] == ["customers.assigned"]  # one notice for the batch
        audited = ctx.dbsession.scalars(select(AuditEntry.record_id).where(
            AuditEntry.model == "customers_customer", AuditEntry.action == "update")).all()
        assert sorted(audited) == sorted(str(i) for i in ids)


def test_assignment_refusals_write_nothing(company):
    env, users = company
    _pool_id, (customer_id,) = _pool(env, ["拒绝科技有限公司"],
                                     members={"managers": [users["wang"]], "users": [users["zhang"]]})
    with env.ctx() as ctx:
        outsider = create_user(ctx, "zhaoliu", "Summer-Wind-66", roles=["sales"], display_name="赵六").id
        gone = create_user(ctx, "qianqi", "Cloudy-Hill-55", roles=["sales"], display_name="钱七")
        pool_members.set_members(ctx, _pool_id, managers=[users["wang"]], users=[users["zhang"], gone.id])
        set_active(ctx, gone, False)
        gone_id = gone.id
    with env.ctx() as ctx:
        wang, zhang = as_user(ctx, users["wang"]), as_user(ctx, users["zhang"])
        with pytest.raises(NotPoolManager) as refused:
            pool_assign.assign_from_pool(zhang, [customer_id], users["zhang"])  # a member, not a manager
        assert refused.value.params == {"pool": "公司公海"}
        with pytest.raises(AssigneeNotMember) as refused:
            pool_assign.assign_from_pool(wang, [customer_id], outsider)
        assert refused.value.params == {"user": "赵六", "pool": "公司公海"}
        text = localizer_for("zh_CN").translate(refused.value.translation_string)
        assert "赵六" in text and "公司公海" in text
        with pytest.raises(AssigneeInactive):
            pool_assign.assign_from_pool(wang, [customer_id], gone_id)
        pool_assign.assign_from_pool(wang, [customer_id], users["zhang"])
        with pytest.raises(AlreadyClaimed):
            pool_assign.assign_from_pool(wang, [customer_id], users["wang"])
        assert ctx.dbsession.scalar(select(func.count()).select_from(PoolMove)) == 1
        assert {c.id: c.label for c in [ctx.dbsession.get(User, users["zhang"])]}  # sanity: labels load
        assert [u for u, _label in pool_assign.assignee_choices(wang)] == sorted(
            [users["wang"], users["zhang"]], key=lambda i: ctx.dbsession.get(User, i).username)


# ---------------------------------------------------------------- per-level days, locks, exemptions


def test_return_days_per_level_fall_back_to_the_pools(company):
    env, users = company
    _pool_id, (key, usual, fast_deal) = _pool(
        env, {"重要客户有限公司": "A", "普通客户有限公司": "C", "速战客户有限公司": "B"},
        return_after_days_without_followup=30, levels={"A": (10, ""), "B": ("", "5"), "D": ("", "")})
    with env.ctx() as ctx:
        assert set(pool_rules.rules_by_pool(ctx, [_pool_id])[_pool_id]) == {"A", "B"}  # blank D: no rule
        zhang = as_user(ctx, users["zhang"])
        pools.claim_from_pool(zhang, [key, usual, fast_deal])
        assert pools.auto_return_due(later(ctx, days=4)) == {"returned": 0, "warned": 0}
        assert pools.auto_return_due(later(ctx, days=6)) == {"returned": 1, "warned": 0}  # B: 5 days without a deal
        assert pools.auto_return_due(later(ctx, days=11)) == {"returned": 1, "warned": 0}  # A: 10 days
        assert ctx.dbsession.get(Customer, usual).owner_id == users["zhang"]
        assert pools.auto_return_due(later(ctx, days=31)) == {"returned": 1, "warned": 0}  # C: the pool's 30
        reasons = {m.customer_id: m.reason for m in ctx.dbsession.scalars(
            select(PoolMove).where(PoolMove.action == "auto_returned"))}
        assert reasons == {fast_deal: "deal:5", key: "followup:10", usual: "followup:30"}


def test_level_rules_refuse_bad_days_and_unknown_levels(company):
    env, _users = company
    pool_id, _ids = _pool(env, [], levels={"A": (15, None)})
    for rules, error in (({"A": (-1, None)}, PoolRuleInvalid), ({"B": ("十", None)}, PoolRuleInvalid),
                         ({"A": (4000, None)}, PoolRuleInvalid), ({"Z": (5, None)}, PoolLevelUnknown)):
        with env.ctx() as ctx, pytest.raises(error):
            pool_rules.save_level_rules(ctx, pool_id, rules)
    with env.ctx() as ctx:
        rules = ctx.dbsession.scalars(select(PoolRule)).all()
        assert [(r.level, r.days_without_followup, r.days_without_deal) for r in rules] == [("A", 15, None)]
        assert localizer_for("zh_CN").translate(PoolLevelUnknown(level="Z").translation_string)


def test_locked_customers_never_return_within_the_lock_limit(company):
    env, users = company
    _pool_id, (first, second, third) = _pool(env, ["锁定一号公司", "锁定二号公司", "未锁公司"],
                                             return_after_days_without_followup=10, warn_days_before=2, max_locked=1)
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        pools.claim_from_pool(zhang, [first, second])
        with pytest.raises(NotLockable):
            pool_lock.lock_customer(ctx, third)  # still in the pool: nobody to keep it
        with pytest.raises(RecordNotFound):
            pool_lock.lock_customer(as_user(ctx, users["lisi"]), first)  # not theirs
        assert pool_lock.lock_customer(zhang, first).locked is True
        with pytest.raises(LockLimitReached) as refused:
            pool_lock.lock_customer(as_user(ctx, users["wang"]), second)  # the manager locks for zhang
        assert refused.value.params == {"owner": "张三", "limit": 1, "pool": "公司公海", "locked": 1}
        assert pools.auto_return_due(later(ctx, days=9)) == {"returned": 0, "warned": 1}  # only the unlocked
        assert pools.auto_return_due(later(ctx, days=11)) == {"returned": 1, "warned": 0}
        assert ctx.dbsession.get(Customer, first).owner_id == users["zhang"]
        assert ctx.dbsession.get(Customer, second).owner_id is None
        pool_lock.unlock_customer(zhang, first)
        assert pools.auto_return_due(later(ctx, days=12)) == {"returned": 1, "warned": 0}
        assert [m.action for m in pools.pool_moves(ctx, first)] == ["auto_returned", "unlocked", "locked", "claimed"]
        changes = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.model == "customers_customer",
                                                                 AuditEntry.record_id == str(first))).all()
        assert sum("locked" in (entry.changes or {}) for entry in changes) == 2


def test_customers_with_an_open_deal_stay_through_the_hook(company, catalog):
    env, users = company
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["dealwatch"])
    _pool_id, (dealing, idle) = _pool(env, ["商机进行中公司", "无商机公司"], return_after_days_without_deal=20,
                                      warn_days_before=3)
    OPEN_DEALS.clear()
    CALLS.clear()
    OPEN_DEALS.add(dealing)
    with env.ctx() as ctx:
        pools.claim_from_pool(as_user(ctx, users["zhang"]), [dealing, idle])
        assert pools.auto_return_due(later(ctx, days=10)) == {"returned": 0, "warned": 0}
        assert CALLS == []  # nobody due: the hook is not asked
        assert pools.auto_return_due(later(ctx, days=18)) == {"returned": 0, "warned": 1}
        assert pools.auto_return_due(later(ctx, days=21)) == {"returned": 1, "warned": 0}
        assert [sorted(ids) for ids in CALLS] == [sorted([dealing, idle])] * 2  # one batch per pool and run
        assert ctx.dbsession.get(Customer, dealing).owner_id == users["zhang"]
        assert ctx.dbsession.get(Customer, idle).owner_id is None
        warned = ctx.dbsession.scalars(select(PoolMove.customer_id).where(PoolMove.action == "warned")).all()
        assert warned == [idle]
    OPEN_DEALS.clear()


# ---------------------------------------------------------------- import into a pool


def test_an_import_row_may_put_the_customer_in_a_named_pool(company):
    env, users = company
    _pool_id, _ids = _pool(env, [])
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        customer = imports.create_customer(zhang, {"name": "导入公海有限公司", "pool": "公司公海"})
        assert (customer.owner_id, customer.pool_id) == (None, _pool_id)
        assert [m.action for m in pools.pool_moves(ctx, customer.id)] == ["imported"]
        with pytest.raises(PoolNotFound) as refused:
            imports.create_customer(zhang, {"name": "不存在公海有限公司", "pool": "火星公海"})
        assert refused.value.params == {"name": "火星公海"}
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(
            Customer.name == "不存在公海有限公司")) == 0
    assert "pool" in {field.name for field in imports.CUSTOMERS_IMPORT.fields}


# ---------------------------------------------------------------- one person, two requests at once


@pytest.mark.parametrize(("limit", "error"), [("max_claims_per_day", ClaimLimitDaily),
                                              ("max_owned", ClaimLimitOwned)])
def test_one_persons_parallel_claims_stay_within_the_limit(company, database_url, limit, error):
    """Both requests count "0 of 1" without the user's row lock; with it, the second one waits
    for the first to commit and counts its claim."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the race needs two concurrent transactions")
    env, users = company
    _pool_id, ids = _pool(env, ["并发一号公司", "并发二号公司"], **{limit: 1})
    barrier = threading.Barrier(2, timeout=20)
    outcomes = {}
    original = pools.check_claim_limits

    def check_then_linger(*args):
        original(*args)
        time.sleep(0.5)  # without the lock, the other request would count now and pass too

    def claim(customer_id):
        try:
            with env.ctx() as ctx:
                barrier.wait()
                pools.claim_from_pool(as_user(ctx, users["zhang"]), [customer_id])
            outcomes[customer_id] = "claimed"
        except error:
            outcomes[customer_id] = "refused"

    pools.check_claim_limits = check_then_linger
    try:
        threads = [threading.Thread(target=claim, args=(customer_id,)) for customer_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        pools.check_claim_limits = original
    assert sorted(outcomes.values()) == ["claimed", "refused"]
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id == users["zhang"])) == 1


def test_members_are_replaced_not_added(company):
    env, users = company
    pool_id, _ids = _pool(env, [], members={"managers": [users["wang"]], "users": [users["zhang"], users["wang"]]})
    with env.ctx() as ctx:
        assert pool_members.members_of(ctx, pool_id)["users"] == [users["zhang"]]  # a manager is not listed twice
        assert pool_members.set_members(ctx, pool_id, users=[users["lisi"]]) is True
        assert pool_members.set_members(ctx, pool_id, users=[users["lisi"]]) is False
        assert [(m.user_id, m.manager) for m in ctx.dbsession.scalars(select(PoolMember))] == [(users["lisi"], False)]


# ---------------------------------------------------------------- pages

ADMIN = ("admin", "Kehu-Test-Pass-42")


def _app_pool(app, names, members=None, **rules):
    """A pool of the web app's database holding new customers: ``(pool_id, ids)``."""
    return _pool(app.env, names, members=members, **rules)


def test_the_pool_form_saves_members_days_per_level_and_the_lock_limit(app):
    from .conftest import post
    from .test_pages import login

    login(app, ADMIN)
    page = app.get("/customers/pools/new")
    assert [tr["data-level"] for tr in page.html.select("#pool-level-rules tr[data-level]")] == ["A", "B", "C", "D"]
    east = None
    with app.env.ctx() as ctx:
        east = ctx.dbsession.get(User, app.users["zhang"]).department_id
    form = [("name", "华东公海"), ("department_id", "0"), ("max_owned", ""), ("max_claims_per_day", ""),
            ("reclaim_block_days", "0"), ("return_after_days_without_followup", "30"),
            ("return_after_days_without_deal", ""), ("warn_days_before", "3"), ("max_locked", "2"), ("active", "y"),
            ("managers", str(app.users["wang"])), ("member_users", str(app.users["lisi"])),
            ("member_departments", str(east)), ("rule_followup_A", "10"), ("rule_deal_A", ""),
            ("rule_followup_B", ""), ("rule_deal_B", "60")]
    post(app, "/customers/pools/new", form, status=303)
    with app.env.ctx() as ctx:
        (pool_id,) = ctx.dbsession.scalars(select(PoolMember.pool_id).distinct()).all()
        assert pool_members.members_of(ctx, pool_id) == {"managers": [app.users["wang"]],
                                                         "users": [app.users["lisi"]], "departments": [east]}
        rules = {r.level: (r.days_without_followup, r.days_without_deal)
                 for r in ctx.dbsession.scalars(select(PoolRule))}
        assert rules == {"A": (10, None), "B": (None, 60)}
        assert ctx.dbsession.scalar(select(func.count()).select_from(PoolMember)) == 3
    assert app.get("/customers/pools").html.select_one(f"#pool-{pool_id} .pool-members")["data-count"] == "3"
    page = app.get(f"/customers/pools/{pool_id}/edit")
    assert page.html.select_one("#pool-form input[name=max_locked]")["value"] == "2"
    assert page.html.select_one("input[name=rule_followup_A]")["value"] == "10"
    assert [o["value"] for o in page.html.select("select[name=managers] option[selected]")] == [str(app.users["wang"])]

    zh = localizer_for("zh_CN")
    for bad, error in (([("rule_followup_A", "-3")], PoolRuleInvalid(level="A")),
                       ([("rule_deal_Z", "5")], PoolLevelUnknown(level="Z"))):
        edited = [(k, v) for k, v in form if k not in {name for name, _v in bad}] + bad + [("max_locked", "9")]
        edited = [(k, v) for k, v in edited if not (k == "max_locked" and v == "2")]
        refused = post(app, f"/customers/pools/{pool_id}/edit", edited, status=200)
        assert zh.translate(error.translation_string) in refused.text
    refused = post(app, f"/customers/pools/{pool_id}/edit", [*form[:8], ("max_locked", "-1"), *form[9:]], status=200)
    assert refused.html.select_one("#pool-form input[name=max_locked].is-invalid") is not None
    with app.env.ctx() as ctx:  # nothing of the refused saves was written
        assert ctx.dbsession.get(pools.Pool, pool_id).max_locked == 2
        rules = {r.level: (r.days_without_followup, r.days_without_deal)
                 for r in ctx.dbsession.scalars(select(PoolRule))}
        assert rules == {"A": (10, None), "B": (None, 60)}


def test_a_pool_manager_assigns_from_the_pool_list_and_reads_the_pools_history(app):
    from .conftest import WANG, ZHANG, post
    from .test_pages import login, rows

    pool_id, ids = _app_pool(app, ["分配一号公司", "分配二号公司"], max_claims_per_day=1,
                             members={"managers": [app.users["wang"]], "users": [app.users["zhang"]]})
    login(app, ZHANG)
    pairs = [("action", "assign"), ("scope", "selected"), ("query", ""), ("confirm", "1"),
             ("value", str(app.users["zhang"])), *[("ids", str(i)) for i in ids]]
    post(app, "/customers/pool/bulk", pairs, status=200)  # a member has nobody to assign to
    app.get(f"/customers/pools/{pool_id}/history", status=400)  # NotPoolManager: not theirs to read
    login(app, WANG)
    outsider = [(k, str(app.users["lisi"]) if k == "value" else v) for k, v in pairs]
    post(app, "/customers/pool/bulk", outsider, status=200)  # lisi is not a member: not offered
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(PoolMove)) == 0
    post(app, "/customers/pool/bulk", pairs, status=303)
    with app.env.ctx() as ctx:
        assert {c.owner_id for c in ctx.dbsession.scalars(select(Customer))} == {app.users["zhang"]}
    assert rows(app.get("/customers/pool")) == []
    history = app.get(f"/customers/pools/{pool_id}/history")
    assert sorted(int(tr["data-customer"]) for tr in history.html.select("#pool-history tr[data-move=assigned]")) == ids


def test_the_assign_form_opens_only_for_who_may_assign(app):
    """A pool customer: only its pool's managers assign it; an owned one: whoever may change it
    (lisi may not change zhangsan's customer: not found, as on every scoped path)."""
    from addons.customers import services

    from .conftest import LISI, WANG, ZHANG
    from .test_pages import login

    _pool_id, (pooled,) = _app_pool(app, ["公海里的有限公司"], members={"managers": [app.users["wang"]],
                                                                  "users": [app.users["zhang"]]})
    with app.env.ctx() as ctx:
        owned = services.create_customer(ctx, name="张三的有限公司", owner_id=app.users["zhang"]).id
    login(app, ZHANG)
    assert app.get(f"/customers/{pooled}").html.select_one("#customer-assign") is None
    app.get(f"/customers/{pooled}/assign", status=403)
    assert app.get(f"/customers/{owned}").html.select_one("#assign-open") is not None
    assert app.get(f"/customers/{owned}/assign").html.select("#assign-form option")
    login(app, LISI)
    app.get(f"/customers/{owned}/assign", status=404)
    login(app, WANG)
    assert app.get(f"/customers/{pooled}/assign").html.select_one("#assign-form") is not None


def test_assign_and_lock_from_the_customer_page(app):
    from .conftest import WANG, ZHANG, post
    from .test_pages import login

    _pool_id, (customer_id,) = _app_pool(app, ["页面分配有限公司"], max_locked=1,
                                         members={"managers": [app.users["wang"]], "users": [app.users["zhang"]]})
    login(app, WANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one("#assign-form") is None  # the colleagues load when asked for
    opener = page.html.select_one("#assign-open")
    assert opener["hx-get"] == opener["href"] == f"/customers/{customer_id}/assign"
    fragment = app.get(opener["hx-get"], headers={"HX-Request": "true"})
    assert fragment.html.select_one("html") is None  # just the form, into the card
    assert {o["value"] for o in fragment.html.select("#assign-form option")} == {str(app.users["wang"]),
                                                                                str(app.users["zhang"])}
    whole = app.get(opener["href"])  # without htmx: a page of its own
    assert whole.html.select_one("#customer-assign #assign-form") is not None
    post(app, f"/customers/{customer_id}/assign", [("owner_id", str(app.users["lisi"]))], status=303)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, customer_id).owner_id is None  # lisi is no member: refused
    post(app, f"/customers/{customer_id}/assign", [("owner_id", str(app.users["zhang"]))], status=303)
    login(app, ZHANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one("#customer-locked") is None
    assert page.html.select_one("#lock-button")["data-locked"] == "false"
    post(app, f"/customers/{customer_id}/lock", [], status=303)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one("#customer-locked") is not None
    assert [li["data-move"] for li in page.html.select("#pool-moves li")] == ["locked", "assigned"]
    listed = app.get("/customers")
    assert listed.html.select_one(f"#row-{customer_id} td[data-field=locked]") is not None
    post(app, f"/customers/{customer_id}/assign", [("owner_id", str(app.users["lisi"]))], status=303)  # 转移
    with app.env.ctx() as ctx:
        customer = ctx.dbsession.get(Customer, customer_id)
        assert (customer.owner_id, customer.locked) == (app.users["lisi"], True)
        assert set(ctx.dbsession.scalars(select(Contact.owner_id).where(Contact.customer_id == customer_id))) <= {
            app.users["lisi"]}


def test_the_general_assign_of_a_pool_customer_goes_through_the_pool(company):
    """转移 by an administrator (the customers list, the API) of a pool customer: a member only,
    with its pool move, as a pool manager's assignment."""
    env, users = company
    _pool_id, (customer_id,) = _pool(env, ["转移公海有限公司"], members={"users": [users["zhang"]]})
    with env.ctx() as ctx:
        with pytest.raises(AssigneeNotMember):
            services.assign_customers(ctx, [customer_id], users["lisi"])
        assert services.assign_customers(ctx, [customer_id], users["zhang"]) == 1
        customer = ctx.dbsession.get(Customer, customer_id)
        assert (customer.owner_id, customer.acquired_at is not None) == (users["zhang"], True)
        assert [m.action for m in pools.pool_moves(ctx, customer_id)] == ["assigned"]
