"""The 公海 pages: the pool list (only the reader's pools, bounded queries, bulk claim), the
claim button and the "return to the pool" form on the customer page, and its pool history."""

from sqlalchemy import select

from addons.customers import pool as pools
from addons.customers import services
from addons.customers.exceptions import ReasonRequired
from addons.customers.models import Customer, Pool, PoolMove
from core.i18n import localizer_for
from core.models import AuditEntry
from core.org.services import create_department, root_department

from .conftest import WANG, ZHANG, post
from .test_pages import count_queries, login, rows


def in_pool(app, names, department=None, **rules):
    """A pool (company-wide, or of ``department``) holding new customers: ``(pool_id, ids)``."""
    with app.env.ctx() as ctx:
        pool = pools.save_pool(ctx, name=f"公海{len(names)}{department or ''}", department_id=department, **rules)
        ids = []
        for name in names:
            customer = services.create_customer(ctx, name=name)
            customer.pool_id = pool.id
            ids.append(customer.id)
        ctx.dbsession.flush()
        return pool.id, ids


def test_the_pool_list_shows_only_the_readers_pools(app):
    with app.env.ctx() as ctx:
        south = create_department(ctx, "华南大区", root_department(ctx).id).id
    _ours, ours = in_pool(app, ["公海甲公司", "公海乙公司"])
    _theirs, theirs = in_pool(app, ["华南公司"], department=south)
    login(app, ZHANG)
    assert sorted(rows(app.get("/customers/pool"))) == sorted(ours)
    assert rows(app.get("/customers")) == []  # not in the owner's list
    app.get(f"/customers/{ours[0]}", status=200)  # a pool customer's page opens
    app.get(f"/customers/{theirs[0]}", status=404)
    login(app, ("admin", "Kehu-Test-Pass-42"))
    assert sorted(rows(app.get("/customers/pool"))) == sorted(ours + theirs)


def test_a_pool_customer_can_be_starred_from_the_pool_list_only_by_those_who_see_it(app):
    with app.env.ctx() as ctx:
        south = create_department(ctx, "华南大区", root_department(ctx).id).id
    _ours, ours = in_pool(app, ["星标公司"])
    _theirs, theirs = in_pool(app, ["华南星标公司"], department=south)
    login(app, ZHANG)
    fragment = post(app, f"/customers/pool/{ours[0]}/star", [], headers={"HX-Request": "true"})
    assert fragment.html.select_one("button")["data-starred"] == "true"
    post(app, f"/customers/pool/{theirs[0]}/star", [], status=404)


def test_the_pool_list_runs_the_same_few_queries_for_5_or_60_customers(app):
    _pool_id, _ids = in_pool(app, [f"公海公司{n}" for n in range(5)])
    login(app, ZHANG)
    app.get("/customers/pool")
    few = count_queries(app, "/customers/pool?size=100")
    in_pool(app, [f"更多公司{n}" for n in range(55)])
    many = count_queries(app, "/customers/pool?size=100")
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 10, "\n".join(many)  # PostgreSQL: 9 (no BEGIN); role grants and custom fields cached


def test_bulk_claim_from_the_pool_list(app):
    _pool_id, ids = in_pool(app, ["一号公司", "二号公司"])
    login(app, ZHANG)
    pairs = [("action", "claim"), ("scope", "selected"), ("query", ""), *[("ids", str(i)) for i in ids]]
    assert post(app, "/customers/pool/bulk", pairs).html.select_one("#bulk-count")["data-count"] == "2"
    post(app, "/customers/pool/bulk", [*pairs, ("confirm", "1")], status=303)
    with app.env.ctx() as ctx:
        assert {c.owner_id for c in ctx.dbsession.scalars(select(Customer))} == {app.users["zhang"]}
    assert rows(app.get("/customers/pool")) == []
    assert sorted(rows(app.get("/customers"))) == sorted(ids)


def test_bulk_claim_over_the_daily_limit_is_refused_with_its_message(app):
    _pool_id, ids = in_pool(app, ["一号公司", "二号公司"], max_claims_per_day=1)
    login(app, ZHANG)
    pairs = [("action", "claim"), ("scope", "selected"), ("query", ""), ("confirm", "1"),
             *[("ids", str(i)) for i in ids]]
    page = post(app, "/customers/pool/bulk", pairs, status="*")
    assert page.status_int in (200, 303, 409)
    with app.env.ctx() as ctx:
        assert {c.owner_id for c in ctx.dbsession.scalars(select(Customer))} == {None}


def test_claim_button_then_return_with_a_reason(app):
    pool_id, (customer_id,) = in_pool(app, ["丙科技有限公司"])
    login(app, ZHANG)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one("#claim-button") is not None
    assert page.html.select_one("#return-form") is None
    post(app, f"/customers/{customer_id}/claim", [], status=303)
    page = app.get(f"/customers/{customer_id}")
    assert page.html.select_one("#claim-button") is None
    assert page.html.select_one("#return-form") is not None
    assert [li["data-move"] for li in page.html.select("#pool-moves li")] == ["claimed"]

    refused = post(app, f"/customers/{customer_id}/return", [("pool_id", str(pool_id)), ("reason", " ")])
    message = localizer_for("zh_CN").translate(ReasonRequired().translation_string)
    assert message in refused.text
    post(app, f"/customers/{customer_id}/return", [("pool_id", str(pool_id)), ("reason", "客户暂停采购")],
         status=303)
    page = app.get(f"/customers/{customer_id}")
    assert [li["data-move"] for li in page.html.select("#pool-moves li")] == ["returned", "claimed"]
    assert "客户暂停采购" in page.html.select_one("#pool-moves .move-reason").text
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, customer_id).owner_id is None
        assert ctx.dbsession.scalars(select(PoolMove.action).order_by(PoolMove.id)).all() == ["claimed", "returned"]


def test_someone_else_cannot_return_my_customer(app):
    pool_id, (customer_id,) = in_pool(app, ["丁科技有限公司"])
    with app.env.ctx() as ctx:
        services.assign_customers(ctx, [customer_id], app.users["zhang"])
    login(app, WANG)  # department scope: may change zhangsan's customers
    post(app, f"/customers/{customer_id}/return", [("pool_id", str(pool_id)), ("reason", "重新分配")], status=303)
    login(app, ("lisi", "Autumn-Rain-88"))
    with app.env.ctx() as ctx:
        services.assign_customers(ctx, [customer_id], app.users["zhang"])
    post(app, f"/customers/{customer_id}/return", [("pool_id", str(pool_id)), ("reason", "不是我的")], status=404)


def test_an_admin_creates_and_edits_a_pool_and_salespeople_may_not(app):
    login(app, ZHANG)
    app.get("/customers/pools", status=403)
    app.get("/customers/pools/new", status=403)
    login(app, ("admin", "Kehu-Test-Pass-42"))
    assert app.get("/customers/pools").html.select_one("#pools-empty") is not None
    form = [("name", "华东公海"), ("department_id", "0"), ("max_owned", "50"), ("max_claims_per_day", "5"),
            ("reclaim_block_days", "7"), ("return_after_days_without_followup", "30"),
            ("return_after_days_without_deal", ""), ("warn_days_before", "3"), ("active", "y")]
    post(app, "/customers/pools/new", form, status=303)
    with app.env.ctx() as ctx:
        (pool,) = ctx.dbsession.scalars(select(Pool)).all()
        assert (pool.department_id, pool.max_owned, pool.max_claims_per_day, pool.reclaim_block_days,
                pool.return_after_days_without_followup, pool.return_after_days_without_deal,
                pool.warn_days_before, pool.active) == (None, 50, 5, 7, 30, None, 3, True)
        pool_id = pool.id
    page = app.get(f"/customers/pools/{pool_id}/edit")
    assert page.html.select_one("#pool-form input[name=max_owned]")["value"] == "50"
    edited = [(k, "" if k == "max_owned" else v) for k, v in form]
    post(app, f"/customers/pools/{pool_id}/edit", edited, status=303)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Pool, pool_id).max_owned is None
        audited = ctx.dbsession.scalars(select(AuditEntry.action).where(AuditEntry.model == "customers_pool")).all()
        assert sorted(audited) == ["create", "update"]
    assert app.get("/customers/pools").html.select_one(f"#pool-{pool_id}") is not None
    post(app, "/customers/pools/new", [("name", ""), ("department_id", "0")], status=200)
