"""Merging two customers (admin): the preview, what moves (contacts, follow-ups, pool history and
another addon's linked records through ``customers_merged``), the audit entries, and the
refusals — without the permission, one customer twice, a customer out of reach, an addon saying
no (then nothing changes). The fixture addon ``customer_notes`` also proves that 查重 merges the
hits of ``customers_duplicate_candidates``."""

import json

import pytest
from sqlalchemy import func, select

from addons.customers import services
from addons.customers.duplicates import DuplicateQuery, find_duplicates
from addons.customers.exceptions import MergeIntoItself
from addons.customers.merge import merge_customers, plan_merge
from addons.customers.models import Contact, Customer, Followup, PoolMove
from addons.customers.pool import claim_from_pool, return_to_pool, save_pool
from core.access.exceptions import PermissionDenied, RecordNotFound
from core.access.roles import role_by_key, role_permissions, set_role_permissions
from core.models import AuditEntry, User
from tests.fixtures.addons.customer_notes.hooks import NoteLocked
from tests.fixtures.addons.customer_notes.models import CustomerNote

from .conftest import WANG, _people, post

CODE = "91350100M000100Y43"


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def admin(ctx):
    return ctx.as_user(ctx.dbsession.scalars(select(User).where(User.username == "admin")).one())


@pytest.fixture
def notes_company(kehu_db, cli_env, catalog_of):
    """``(env, users, ids)``: customers and the fixture addon installed; two records of one company."""
    from core.addons.installer import install_addons

    catalog = catalog_of("addons.customers", "tests.fixtures.addons.customer_notes")
    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["customers", "customer_notes"])
    users = _people(env)
    with env.ctx() as ctx:
        source = services.create_customer(ctx, name="华信科技（上海）", owner_id=users["lisi"], credit_code=CODE,
                                          address="浦东新区张江路 1 号", level="A")
        target = services.create_customer(ctx, name="上海华信科技有限公司", owner_id=users["zhang"], level="B")
        services.add_contact(ctx, source.id, name="王经理", mobile="13900139000", primary=True)
        services.add_contact(ctx, target.id, name="李总", primary=True)
        services.add_followup(as_user(ctx, users["lisi"]), source.id, kind="phone", content="约了下周拜访")
        ctx.dbsession.add(CustomerNote(customer_id=source.id, text="年底有采购预算", mobile="13700137000"))
        pool = save_pool(ctx, name="公司公海")
        ids = {"source": source.id, "target": target.id, "pool": pool.id}
    with env.ctx() as ctx:  # some pool history on the source: returned by lisi, claimed back
        return_to_pool(as_user(ctx, users["lisi"]), ids["source"], ids["pool"], "暂无需求")
        claim_from_pool(as_user(ctx, users["lisi"]), [ids["source"]])
    return env, users, ids


def counts(ctx, customer_id):
    return {model.__name__: ctx.dbsession.scalar(select(func.count()).select_from(model)
                                                 .where(model.customer_id == customer_id))
            for model in (Contact, Followup, PoolMove, CustomerNote)}


def test_the_preview_shows_what_the_target_keeps_and_takes(notes_company):
    env, _users, ids = notes_company
    with env.ctx() as ctx:
        plan = plan_merge(admin(ctx), ids["source"], ids["target"])
        fields = {f.field: f for f in plan.fields}
    assert (fields["name"].result, fields["name"].taken) == ("上海华信科技有限公司", False)
    assert (fields["level"].result, fields["level"].taken) == ("B", False)  # the target keeps its own
    assert (fields["credit_code"].result, fields["credit_code"].taken) == (CODE, True)  # and fills its blanks
    assert fields["address"].taken
    assert plan.moved == {"contacts": 1, "followups": 1, "pool_moves": 2, "plans": 0, "attachments": 0}


def test_merge_moves_every_linked_record_audits_and_deletes_the_source(notes_company):
    env, users, ids = notes_company
    with env.ctx() as ctx:
        before = counts(ctx, ids["source"])
        merged = merge_customers(admin(ctx), ids["source"], ids["target"])
        assert merged.id == ids["target"]
    assert before == {"Contact": 1, "Followup": 1, "PoolMove": 2, "CustomerNote": 1}
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, ids["source"]) is None
        assert counts(ctx, ids["target"]) == {"Contact": 2, "Followup": 1, "PoolMove": 2, "CustomerNote": 1}
        target = ctx.dbsession.get(Customer, ids["target"])
        assert (target.credit_code, target.address, target.level) == (CODE, "浦东新区张江路 1 号", "B")
        moved = ctx.dbsession.scalars(select(Contact).where(Contact.name == "王经理")).one()
        assert (moved.owner_id, moved.primary) == (users["zhang"], False)  # the target's owner, one primary
        entries = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.action == "merge")
                                        .order_by(AuditEntry.id)).all()
        assert [e.record_id for e in entries] == [str(ids["target"]), str(ids["source"])]
        assert entries[0].changes["credit_code"] == [None, CODE] and entries[0].username == "admin"
        assert json.loads(entries[0].detail)["moved"] == {"contacts": 1, "followups": 1, "pool_moves": 2, "plans": 0,
                                                          "attachments": 0, "tags": 0, "team": 0, "custom_values": 0}


def test_an_addon_refusing_leaves_both_customers_as_they_were(notes_company):
    env, _users, ids = notes_company
    with env.ctx() as ctx:
        ctx.dbsession.add(CustomerNote(customer_id=ids["source"], text="LOCKED"))
    with env.ctx() as ctx:
        with pytest.raises(NoteLocked):
            merge_customers(admin(ctx), ids["source"], ids["target"])
        assert ctx.dbsession.get(Customer, ids["source"]) is not None  # the savepoint rolled back
        assert ctx.dbsession.get(Customer, ids["target"]).credit_code is None
        assert counts(ctx, ids["source"]) == {"Contact": 1, "Followup": 1, "PoolMove": 2, "CustomerNote": 2}
        assert not ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.action == "merge")).all()


def test_merge_is_refused_without_the_permission_for_one_id_twice_and_out_of_reach(notes_company):
    env, users, ids = notes_company
    with env.ctx() as ctx:
        with pytest.raises(PermissionDenied):
            merge_customers(as_user(ctx, users["wang"]), ids["source"], ids["target"])  # a manager, not admin
        with pytest.raises(MergeIntoItself):
            merge_customers(admin(ctx), ids["target"], ids["target"])
        with pytest.raises(RecordNotFound):
            merge_customers(admin(ctx), ids["source"], 999_999)
        sales = role_by_key(ctx, "sales")
        set_role_permissions(admin(ctx), sales, role_permissions(ctx, sales) | {"customers.customer:merge"})
    with env.ctx() as ctx:
        with pytest.raises(RecordNotFound):  # zhang may merge now, but cannot write lisi's customer
            merge_customers(as_user(ctx, users["zhang"]), ids["source"], ids["target"])
        assert ctx.dbsession.get(Customer, ids["source"]) is not None


def test_duplicate_check_adds_the_hits_of_other_addons(notes_company):
    env, users, _ids = notes_company
    with env.ctx() as ctx:
        hits = find_duplicates(as_user(ctx, users["zhang"]), DuplicateQuery(mobile="13700137000"))
    assert [(hit.name, hit.kind, hit.match) for hit in hits] == [("年底有采购预算", "Note", "mobile")]


# -- the page ---------------------------------------------------------------------------------

def test_the_merge_page_previews_merges_and_refuses(app):
    with app.env.ctx() as ctx:
        source = services.create_customer(ctx, name="华信科技（上海）", owner_id=app.users["lisi"], address="张江路")
        target = services.create_customer(ctx, name="上海华信科技有限公司", owner_id=app.users["zhang"])
        services.add_contact(ctx, source.id, name="王经理")
        source, target = source.id, target.id
    app.reset()
    app.login(*WANG)
    app.get("/customers/merge", {"source": source, "target": target}, status=403)  # not an admin
    app.reset()
    app.login()
    page = app.get("/customers/merge", {"source": source, "target": target})
    row = page.html.select_one('#merge-preview tr[data-field="address"]')
    assert row["data-taken"] == "true" and "张江路" in row.get_text()
    assert page.html.select_one('#merge-preview tr[data-field="name"]')["data-taken"] == "false"
    same = app.get("/customers/merge", {"source": target, "target": target})
    assert same.html.select_one("#merge-error") and not same.html.select("#merge-form")
    done = post(app, f"/customers/merge?source={source}&target={target}", [], status=303)
    assert done.location.endswith(f"/customers/{target}")
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, source) is None
        assert ctx.dbsession.scalars(select(Contact.customer_id).where(Contact.name == "王经理")).one() == target
    app.get("/customers/merge", {"source": source, "target": target}, status=404)  # gone


def test_tags_team_custom_values_plans_and_attachments_follow_the_merge(notes_company):
    """The addon's own links move too: the target gains the source's tags, team members, plans
    and attachments, and its custom values where it has none."""
    import datetime as dt

    from addons.customers import tags, team
    from addons.customers.models import Attachment, FollowupPlan
    from core.customfields.services import save_field, set_values, values_for
    from core.files import store_file

    env, users, ids = notes_company
    with env.ctx() as ctx:
        source, target = ctx.dbsession.get(Customer, ids["source"]), ctx.dbsession.get(Customer, ids["target"])
        tags.set_customer_tags(ctx, source.id, "大客户,华东")
        tags.set_customer_tags(ctx, target.id, "华东")
        team.add_team_member(ctx, source.id, users["wang"], can_write=True)
        grade = save_field(ctx, "customers_customer", label="合作等级", kind="text").name
        budget = save_field(ctx, "customers_customer", label="年采购额", kind="number").name
        set_values(ctx, source, {grade: "战略", budget: "100"})
        set_values(ctx, target, {grade: "普通"})
        services.add_followup(as_user(ctx, users["lisi"]), source.id, kind="visit", content="见面",
                              next_at=ctx.now + dt.timedelta(days=3))
        stored = store_file(ctx, users["lisi"], "合同.pdf", "application/pdf", b"%PDF-1.4 contract", "attachment")
        ctx.dbsession.add(Attachment(customer_id=source.id, file_id=stored.id))
    with env.ctx() as ctx:
        merge_customers(admin(ctx), ids["source"], ids["target"])
    with env.ctx() as ctx:
        target = ctx.dbsession.get(Customer, ids["target"])
        assert sorted(tags.tag_names(ctx, target.id)) == ["华东", "大客户"]
        assert [(m.user_id, m.can_write) for m in team.team_of(ctx, target)] == [(users["wang"], True)]
        assert values_for(ctx, Customer, [target.id])[target.id] == {grade: "普通", budget: 100}
        assert ctx.dbsession.scalar(select(func.count()).select_from(FollowupPlan)
                                    .where(FollowupPlan.customer_id == target.id)) == 1
        assert ctx.dbsession.scalar(select(func.count()).select_from(Attachment)
                                    .where(Attachment.customer_id == target.id)) == 1
