"""The services: 查重 and uniqueness (also under a race), follow-ups, assign with its
notification, and the record-scope matrix on every path of the list machinery."""

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from addons.customers import services
from addons.customers.exceptions import CreditCodeInvalid, CreditCodeTaken, CustomerNameTaken, MobileInvalid
from addons.customers.lists import CUSTOMERS_LIST
from addons.customers.models import Customer, Followup
from core.i18n import localizer_for
from core.lists.query import ListState, filtered_select
from core.models import AuditEntry, User
from core.notifications.models import Notification

CODE = "91350100M000100Y43"


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def test_create_derives_keys_and_audits(company):
    env, users = company
    with env.ctx() as ctx:
        customer = services.create_customer(as_user(ctx, users["zhang"]), name="阿里巴巴（中国）有限公司",
                                            credit_code=CODE.lower(), level="A")
        assert customer.name_key == "阿里巴巴"
        assert (customer.pinyin, customer.initials) == ("alibabazhongguoyouxiangongsi", "albbzgyxgs")
        assert customer.credit_code == CODE
        assert customer.owner_id == users["zhang"]
        entries = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.model == "customers_customer")).all()
        assert [(e.action, e.record_id) for e in entries] == [("create", str(customer.id))]


def test_a_duplicate_name_is_refused_with_its_owner(company):
    env, users = company
    with env.ctx() as ctx:
        services.create_customer(ctx, name="阿里巴巴有限公司", owner_id=users["zhang"])
    with env.ctx() as ctx, pytest.raises(CustomerNameTaken) as refused:
        services.create_customer(as_user(ctx, users["lisi"]), name="阿里巴巴 有限责任公司")
    assert refused.value.params == {"name": "阿里巴巴有限公司", "owner": "张三"}
    assert "“阿里巴巴有限公司”" in localizer_for("zh_CN").translate(refused.value.translation_string)
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 1


def test_credit_code_invalid_and_taken(company):
    env, users = company
    with env.ctx() as ctx:
        services.create_customer(ctx, name="甲公司", credit_code=CODE, owner_id=users["zhang"])
        with pytest.raises(CreditCodeInvalid):
            services.create_customer(ctx, name="乙公司", credit_code="91350100M000100Y44")
        with pytest.raises(CreditCodeTaken):
            services.create_customer(ctx, name="丙公司", credit_code=CODE)


def test_a_contact_mobile_is_checked_and_normalised(company):
    env, users = company
    with env.ctx() as ctx:
        customer = services.create_customer(ctx, name="甲公司", owner_id=users["zhang"])
        with pytest.raises(MobileInvalid):
            services.add_contact(ctx, customer.id, name="王", mobile="010-12345678")
        contact = services.add_contact(ctx, customer.id, name="王", mobile="+86 138 0013 8000")
        assert (contact.mobile, contact.owner_id) == ("13800138000", users["zhang"])


def test_find_duplicates_sees_beyond_the_scope_but_shows_only_name_and_owner(company):
    env, users = company
    with env.ctx() as ctx:
        customer = services.create_customer(ctx, name="上海华信科技有限公司", owner_id=users["lisi"], credit_code=CODE)
        services.add_contact(ctx, customer.id, name="王", mobile="13800138000")
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])  # own scope: cannot read lisi's customer, sees it masked
        expected = [("上海***公司", "李四", None)]

        def found(**typed):
            return [(hit.name, hit.owner, hit.url) for hit in services.find_duplicates(zhang, **typed)]

        assert found(name="华信科技") == expected
        assert found(name="上海华信科技股份有限公司") == expected
        assert found(credit_code=CODE) == expected
        assert found(mobile="138 0013 8000") == expected
        assert services.find_duplicates(zhang, name="百度") == []
        assert services.find_duplicates(zhang) == []


def test_quick_followup_updates_the_customer(company):
    env, users = company
    with env.ctx() as ctx:
        customer_id = services.create_customer(ctx, name="甲公司", owner_id=users["zhang"]).id
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        later = zhang.now.replace(microsecond=0) + dt.timedelta(days=3)
        followup = services.add_followup(zhang, customer_id, kind="phone", content="约了演示", next_at=later,
                                         next_step="演示")
        customer = ctx.dbsession.get(Customer, customer_id)
        assert followup.owner_id == users["zhang"]
        assert customer.last_followup_at == zhang.now
        assert customer.next_followup_at == later
        assert [f.id for f in services.list_followups(zhang, customer_id)] == [followup.id]


def test_the_customers_owner_sees_everything_under_it_whoever_wrote_it(company):
    """D-SCOPE: a manager's follow-up on zhangsan's customer is on zhangsan's timeline too;
    lisi, who may not see the customer, gets none of it."""
    env, users = company
    with env.ctx() as ctx:
        customer_id = services.create_customer(ctx, name="乙公司", owner_id=users["zhang"]).id
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])
        by_manager = services.add_followup(wang, customer_id, kind="visit", content="经理拜访").id
        assert [f.id for f in services.list_followups(as_user(ctx, users["zhang"]), customer_id)] == [by_manager]
        assert services.list_followups(as_user(ctx, users["lisi"]), customer_id) == []
        assert services.list_contacts(as_user(ctx, users["lisi"]), customer_id) == []


def test_assign_notifies_the_new_owner(company):
    env, users = company
    with env.ctx() as ctx:
        ids = [services.create_customer(ctx, name=f"客户{n}", owner_id=users["zhang"]).id for n in range(2)]
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])
        assert services.assign_customers(wang, ids, users["lisi"]) == 2
        assert services.assign_customers(wang, ids, users["lisi"]) == 0  # already theirs
    with env.ctx() as ctx:
        assert {c.owner_id for c in ctx.dbsession.scalars(select(Customer))} == {users["lisi"]}
        notes = ctx.dbsession.scalars(select(Notification).where(Notification.user_id == users["lisi"])).all()
        assert [n.kind for n in notes] == ["customers.assigned"]


def test_scope_matrix_on_every_path(scope_matrix, catalog):
    matrix = scope_matrix(
        Customer, catalog=catalog, install=["customers"],
        make=lambda ctx, owner: services.create_customer(ctx, name=f"{owner.username}的公司", owner_id=owner.id),
    )

    def listed(ctx, action="read"):
        return [c.id for c in ctx.dbsession.scalars(filtered_select(ctx, CUSTOMERS_LIST, ListState(), action))]

    matrix.check(
        list=listed,
        count=lambda ctx: len(listed(ctx)),
        get=services.get_customer,
        update=lambda ctx, customer_id: services.update_customer(ctx, customer_id, remarks="changed"),
        delete=services.delete_customer,
        export=lambda ctx: listed(ctx, "export"),
    )


def test_two_sessions_racing_for_one_name_one_wins(company, database_url):
    """The unique index decides, not the pre-check: both pass the check, one commit wins."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; the race needs two concurrent transactions")
    env, users = company
    barrier = threading.Barrier(2, timeout=20)
    outcomes = []
    original = services._check_unique

    def check_then_wait(ctx, customer):
        original(ctx, customer)
        barrier.wait()  # both transactions have passed the friendly check

    def create(name):
        try:
            with env.ctx() as ctx:
                services.create_customer(ctx, name=name, owner_id=users["zhang"])
            outcomes.append("created")
        except CustomerNameTaken:
            outcomes.append("taken")

    services._check_unique = check_then_wait
    try:
        names = ("竞速科技有限公司", "竞速科技股份有限公司")
        threads = [threading.Thread(target=create, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        services._check_unique = original
    assert sorted(outcomes) == ["created", "taken"]
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 1
        assert ctx.dbsession.scalar(select(func.count()).select_from(Followup)) == 0
