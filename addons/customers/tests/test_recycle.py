"""The recycle bin (回收站, C3): delete hides a customer with its contacts and follow-ups from
every path, restore brings back exactly what the delete took, purge removes it after 30 days
(or at once, for admins), each step audited; the bin's page with its bulk actions."""

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from addons.customers import recycle, services
from addons.customers.exceptions import CustomerInRecycleBin, NotInRecycleBin
from addons.customers.models import Attachment, Contact, Customer, Followup
from core.access.exceptions import RecordNotFound
from core.access.members import RecordMember, set_member
from core.access.scopes import scoped_select
from core.customfields.models import CustomValue
from core.customfields.services import save_field, set_values
from core.files import StoredFile, store_file
from core.models import AuditEntry, User

from .conftest import WANG, ZHANG, post


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def later(ctx, **delta):
    return dataclasses.replace(ctx, now=ctx.now + dt.timedelta(**delta))


def customer_with_children(env, owner, name="阿里巴巴有限公司"):
    with env.ctx() as ctx:
        customer = services.create_customer(ctx, name=name, owner_id=owner)
        services.add_contact(ctx, customer.id, name="马云", mobile="13800138000")
        services.add_followup(ctx, customer.id, kind="phone", content="约了周五拜访")
        return customer.id


def audit_actions(ctx, customer_id):
    return [e.action for e in ctx.dbsession.scalars(
        select(AuditEntry).where(AuditEntry.model == "customers_customer", AuditEntry.record_id == str(customer_id))
        .order_by(AuditEntry.id))]


def test_delete_hides_the_customer_and_what_is_under_it_everywhere(company):
    env, users = company
    cid = customer_with_children(env, users["zhang"])
    with env.ctx() as ctx:
        services.delete_customer(as_user(ctx, users["wang"]), cid)
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])
        with pytest.raises(RecordNotFound):
            services.get_customer(wang, cid)
        assert ctx.dbsession.scalars(scoped_select(wang, Customer)).all() == []
        assert ctx.dbsession.scalars(scoped_select(wang, Contact)).all() == []
        assert ctx.dbsession.scalar(select(Followup.deleted_at).where(Followup.customer_id == cid)) is not None
        # still in the database, marked, for the bin
        customer = ctx.dbsession.get(Customer, cid)
        assert customer.deleted_at is not None and customer.deleted_by == users["wang"]
        assert audit_actions(ctx, cid) == ["create", "update", "delete"]


def test_restore_brings_back_what_the_delete_took_and_not_what_was_deleted_before(company):
    env, users = company
    cid = customer_with_children(env, users["zhang"])
    with env.ctx() as ctx:
        old = ctx.dbsession.scalar(select(Contact).where(Contact.customer_id == cid))
        old.deleted_at = ctx.now - dt.timedelta(days=3)  # deleted on its own, earlier
        services.add_contact(ctx, cid, name="张勇")
    with env.ctx() as ctx:
        services.delete_customer(as_user(ctx, users["wang"]), cid)
    with env.ctx() as ctx:
        assert recycle.restore_customers(as_user(ctx, users["wang"]), [cid]) == 1
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])
        assert services.get_customer(wang, cid).deleted_at is None
        assert [c.name for c in ctx.dbsession.scalars(scoped_select(wang, Contact))] == ["张勇"]
        assert len(services.list_followups(wang, cid)) == 1
        assert audit_actions(ctx, cid)[-2:] == ["delete", "restore"]


def test_only_who_may_delete_may_restore(company):
    env, users = company
    cid = customer_with_children(env, users["zhang"])
    with env.ctx() as ctx:
        services.delete_customer(as_user(ctx, users["wang"]), cid)
    with env.ctx() as ctx, pytest.raises(Exception) as refused:
        recycle.restore_customers(as_user(ctx, users["zhang"]), [cid])  # sales may not delete
    assert type(refused.value).__name__ == "PermissionDenied"
    with env.ctx() as ctx, pytest.raises(NotInRecycleBin):
        recycle.restore_customers(as_user(ctx, users["wang"]), [cid + 1000])


def test_the_same_name_while_in_the_bin_says_restore_it(company):
    env, users = company
    cid = customer_with_children(env, users["zhang"])
    with env.ctx() as ctx:
        services.delete_customer(as_user(ctx, users["wang"]), cid)
    with env.ctx() as ctx, pytest.raises(CustomerInRecycleBin):
        services.create_customer(as_user(ctx, users["zhang"]), name="阿里巴巴 有限责任公司")


def test_the_nightly_job_purges_after_30_days_with_an_audit(company):
    env, users = company
    gone, kept = customer_with_children(env, users["zhang"]), customer_with_children(env, users["zhang"], "甲公司")
    with env.ctx() as ctx:
        record = ctx.dbsession.get(Customer, gone)
        set_member(ctx, record, users["lisi"])
        grade = save_field(ctx, "customers_customer", label="合作等级", kind="text").name
        set_values(ctx, record, {grade: "战略"})
        stored = store_file(ctx, users["zhang"], "合同.pdf", "application/pdf", b"%PDF-1.4", "attachment")
        ctx.dbsession.add(Attachment(customer_id=gone, file_id=stored.id))
        services.delete_customer(as_user(ctx, users["wang"]), gone)
    with env.ctx() as ctx:
        assert recycle.purge_expired(later(ctx, days=29)) == {"purged": 0}
    with env.ctx() as ctx:
        assert recycle.purge_expired(later(ctx, days=31)) == {"purged": 1}
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, gone) is None
        assert ctx.dbsession.scalar(select(func.count()).select_from(Contact).where(Contact.customer_id == gone)) == 0
        assert ctx.dbsession.get(Customer, kept) is not None
        assert audit_actions(ctx, gone)[-1] == "purge"
        assert ctx.dbsession.scalar(select(func.count()).select_from(RecordMember)) == 0
        assert ctx.dbsession.scalar(select(func.count()).select_from(CustomValue)) == 0
        assert ctx.dbsession.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_purge_now_needs_the_purge_permission(company):
    env, users = company
    cid = customer_with_children(env, users["zhang"])
    with env.ctx() as ctx:
        services.delete_customer(as_user(ctx, users["wang"]), cid)
    with env.ctx() as ctx, pytest.raises(Exception) as refused:
        recycle.purge_customers(as_user(ctx, users["wang"]), [cid])
    assert type(refused.value).__name__ == "PermissionDenied"
    with env.ctx() as ctx:
        assert recycle.purge_customers(ctx, [cid]) == 1  # the system (admin) may
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, cid) is None


def test_the_bin_page_lists_and_restores_in_bulk(app):
    ids = [customer_with_children(app.env, app.users["zhang"], f"公司{n}") for n in range(2)]
    app.login(*WANG)
    pairs = [("action", "delete"), ("scope", "selected"), ("query", ""), *[("ids", str(i)) for i in ids]]
    post(app, "/customers/bulk", [*pairs, ("confirm", "1")], status=303)
    assert app.get("/customers").html.select("#list-table tbody tr") == []
    page = app.get("/customers/recycle-bin")
    assert sorted(int(tr["id"].removeprefix("row-")) for tr in page.html.select("#list-table tbody tr")) == ids
    assert "purge" not in {b.get("value") for b in page.html.select("[name=action]")}  # a manager may not purge
    pairs = [("action", "restore"), ("scope", "selected"), ("query", ""), ("ids", str(ids[0]))]
    post(app, "/customers/recycle-bin/bulk", [*pairs, ("confirm", "1")], status=303)
    assert [int(tr["id"].removeprefix("row-")) for tr in app.get("/customers/recycle-bin").html.select(
        "#list-table tbody tr")] == [ids[1]]
    app.get(f"/customers/{ids[0]}", status=200)
    app.get(f"/customers/{ids[1]}", status=404)


def test_a_salesperson_has_no_bin(app):
    app.login(*ZHANG)
    app.get("/customers/recycle-bin", status=403)
