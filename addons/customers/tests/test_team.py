"""团队成员 on customers: a member reads the customer and what is under it (contacts,
follow-ups) on every path, a read-write member edits it, nobody gains delete; the member is told,
every change audited; the owner and disabled users are refused; the page's add and remove."""

import pytest
from sqlalchemy import select

from addons.customers import services, team
from addons.customers.exceptions import OwnerIsNotAMember, UnknownChoice
from addons.customers.models import Customer
from core.access.exceptions import RecordNotFound
from core.access.scopes import scoped_select
from core.models import AuditEntry, User
from core.notifications.models import Notification

from .conftest import LISI, ZHANG, post


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def zhangs_customer(env, users):
    with env.ctx() as ctx:
        customer = services.create_customer(ctx, name="阿里巴巴有限公司", owner_id=users["zhang"])
        services.add_contact(ctx, customer.id, name="马云", mobile="13800138000")
        return customer.id


def test_a_member_reads_the_customer_and_its_contacts_but_edits_only_when_read_write(company):
    env, users = company
    cid = zhangs_customer(env, users)
    with env.ctx() as ctx:
        team.add_team_member(as_user(ctx, users["zhang"]), cid, users["lisi"])
    with env.ctx() as ctx:
        lisi = as_user(ctx, users["lisi"])
        assert services.get_customer(lisi, cid).id == cid
        assert [c.name for c in services.list_contacts(lisi, cid)] == ["马云"]
        assert [c.id for c in ctx.dbsession.scalars(scoped_select(lisi, Customer))] == [cid]
        with pytest.raises(RecordNotFound):
            services.update_customer(lisi, cid, short_name="阿里")
    with env.ctx() as ctx:
        team.add_team_member(as_user(ctx, users["zhang"]), cid, users["lisi"], can_write=True)
    with env.ctx() as ctx:
        assert services.update_customer(as_user(ctx, users["lisi"]), cid, short_name="阿里").short_name == "阿里"


def test_the_member_is_told_once_and_every_change_is_audited(company):
    env, users = company
    cid = zhangs_customer(env, users)
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        team.add_team_member(zhang, cid, users["lisi"])
        team.add_team_member(zhang, cid, users["lisi"], can_write=True)
        assert team.remove_team_member(zhang, cid, users["lisi"]) is True
    with env.ctx() as ctx:
        notices = ctx.dbsession.scalars(select(Notification).where(Notification.user_id == users["lisi"])).all()
        assert [n.kind for n in notices] == ["customers.team_added"]
        changes = [e.changes["team"] for e in ctx.dbsession.scalars(
            select(AuditEntry).where(AuditEntry.model == "customers_customer", AuditEntry.record_id == str(cid),
                                     AuditEntry.action == "update").order_by(AuditEntry.id))]
        assert changes == [[None, "李四 (read-only)"], ["李四", "李四 (read-write)"], ["李四", None]]


def test_the_owner_a_disabled_user_and_an_outsider_are_refused(company):
    env, users = company
    cid = zhangs_customer(env, users)
    with env.ctx() as ctx:
        ctx.dbsession.get(User, users["wang"]).active = False
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        with pytest.raises(OwnerIsNotAMember):
            team.add_team_member(zhang, cid, users["zhang"])
        with pytest.raises(UnknownChoice):
            team.add_team_member(zhang, cid, users["wang"])
        with pytest.raises(RecordNotFound):  # lisi may not change zhang's customer's team
            team.add_team_member(as_user(ctx, users["lisi"]), cid, users["lisi"])
        assert team.team_of(ctx, ctx.dbsession.get(Customer, cid)) == []


def test_the_page_adds_and_removes_a_member(app):
    cid = zhangs_customer(app.env, app.users)
    app.login(*LISI)
    app.get(f"/customers/{cid}", status=404)
    app.reset()
    app.login(*ZHANG)
    panel = app.get(f"/panels/customers.team?model=customers_customer&id={cid}")
    assert panel.html.select_one("#team-form") is not None and panel.html.select_one("#team-empty") is not None
    post(app, f"/customers/{cid}/team", [("user_id", str(app.users["lisi"])), ("until", "2099-12-31")], status=303)
    panel = app.get(f"/panels/customers.team?model=customers_customer&id={cid}")
    assert [li["data-member-user"] for li in panel.html.select("#team-members li[data-member-user]")] == [
        str(app.users["lisi"])]
    with app.env.ctx() as ctx:
        members = team.team_of(ctx, ctx.dbsession.get(Customer, cid))
        assert [(m.user_id, m.can_write, m.until.year) for m in members] == [(app.users["lisi"], False, 2099)]
    post(app, f"/customers/{cid}/team", [("user_id", "999999")], status=303)  # not a colleague: refused, nothing
    app.reset()
    app.login(*LISI)
    app.get(f"/customers/{cid}", status=200)
    assert app.get(f"/panels/customers.team?model=customers_customer&id={cid}").html.select_one("#team-form") is None
    post(app, f"/customers/{cid}/team/{app.users['lisi']}/remove", [], status=404)  # read-only: no team changes
    app.reset()
    app.login(*ZHANG)
    post(app, f"/customers/{cid}/team/{app.users['lisi']}/remove", [], status=303)
    app.reset()
    app.login(*LISI)
    app.get(f"/customers/{cid}", status=404)
