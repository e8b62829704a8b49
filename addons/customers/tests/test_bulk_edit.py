"""批量修改 (C3) on the customers list: source and industry for the selected customers, only
values of the administrator's lists, only customers the user may change, each change audited."""

from sqlalchemy import select

from addons.customers import services
from addons.customers.models import Customer
from core.models import AuditEntry, User

from .conftest import ZHANG, post


def make(app, name, owner):
    with app.env.ctx() as ctx:
        return services.create_customer(ctx, name=name, owner_id=app.users[owner]).id


def bulk(app, action, value, ids, **kwargs):
    pairs = [("action", action), ("scope", "selected"), ("query", ""), ("value", value),
             *[("ids", str(i)) for i in ids]]
    return post(app, "/customers/bulk", [*pairs, ("confirm", "1")], **kwargs)


def test_bulk_source_and_industry_within_the_scope(app):
    mine = [make(app, f"甲{n}公司", "zhang") for n in range(2)]
    theirs = make(app, "乙公司", "lisi")
    app.login(*ZHANG)
    bulk(app, "set_source", "展会", [*mine, theirs], status=303)
    bulk(app, "set_industry", "制造业", mine, status=303)
    with app.env.ctx() as ctx:
        rows = {c.id: (c.source, c.industry) for c in ctx.dbsession.scalars(select(Customer))}
        assert rows == {mine[0]: ("展会", "制造业"), mine[1]: ("展会", "制造业"), theirs: (None, None)}
        audited = ctx.dbsession.scalars(select(AuditEntry.changes).where(AuditEntry.model == "customers_customer",
                                                                         AuditEntry.action == "update")).all()
        assert sum("source" in c for c in audited) == 2


def test_a_value_off_the_list_changes_nothing(app):
    mine = make(app, "甲公司", "zhang")
    app.login(*ZHANG)
    bulk(app, "set_source", "不存在的来源", [mine], status="*")
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, mine).source is None


def test_a_transfer_takes_the_previous_owners_open_plans_along(app):
    import datetime as dt

    from addons.customers import plans
    from addons.customers.models import FollowupPlan

    cid = make(app, "甲公司", "zhang")
    with app.env.ctx() as ctx:
        zhang = ctx.as_user(ctx.dbsession.get(User, app.users["zhang"]))
        services.add_followup(zhang, cid, kind="phone", content="约拜访", next_at=ctx.now + dt.timedelta(days=2))
    with app.env.ctx() as ctx:
        services.assign_customers(ctx, [cid], app.users["lisi"])
    with app.env.ctx() as ctx:
        plan = ctx.dbsession.scalars(select(FollowupPlan).where(FollowupPlan.customer_id == cid)).one()
        assert (plan.owner_id, plan.state) == (app.users["lisi"], plans.PLANNED)
