"""Gaps closed late in the customers addon: the key customers' value from other addons
(``customers_value``, the fixture addon ``dealvalue``), contacts list rows that open their
customer, a lock transferred within the new owner's cap (D-CAP), automatic-return reasons shown
as sentences, levels longer than one letter (migration c009), and the indexed contact search and
e-mail 查重."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import func, inspect, select, text

from addons.customers import api, choices, duplicates, pool_lock, pool_rules, services
from addons.customers import pool as pools
from addons.customers.lists import format_cny
from addons.customers.models import Choice, Contact, Customer, PoolMove, PoolRule
from addons.customers.search import FTS_TRIGGERS, contact_search_condition, customer_search_condition
from core.addons.installer import install_addons, upgrade_addons
from core.addons.migrations import _run, current_revisions
from core.i18n import _, localizer_for
from core.models import AuditEntry, User
from tests.fixtures.addons.dealvalue.hooks import CALLS, VALUES

from .conftest import LISI, ZHANG, post
from .test_pages import login, rows

ADMIN = ("admin", "Kehu-Test-Pass-42")


@pytest.fixture
def catalog(catalog_of):
    """The customers addon and an orders stand-in that knows what customers are worth."""
    return catalog_of("addons.customers", "tests.fixtures.addons.dealvalue")


@pytest.fixture(autouse=True)
def _fresh_values():
    VALUES.clear()
    CALLS.clear()
    yield
    VALUES.clear()
    CALLS.clear()


def zh(message):
    return localizer_for("zh_CN").translate(message)


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def later(ctx, **delta):
    return dataclasses.replace(ctx, now=ctx.now + dt.timedelta(**delta))


def make(env, users, name, owner="zhang", **fields):
    with env.ctx() as ctx:
        return services.create_customer(ctx, name=name, owner_id=users[owner], **fields).id


def pooled(env, names, **rules):
    """A company-wide pool holding new customers ``names``: ``(pool_id, [ids])``."""
    with env.ctx() as ctx:
        pool = pools.save_pool(ctx, name="公司公海", **rules)
        ids = []
        for name in names:
            customer = services.create_customer(ctx, name=name)
            customer.owner_id, customer.pool_id = None, pool.id
            ids.append(customer.id)
        ctx.dbsession.flush()
        return pool.id, ids


# ---------------------------------------------------------------- 1. the key customers' value


def value_cells(page):
    return {int(tr["id"].removeprefix("row-")): tr.select_one('td[data-field="value"]').text.strip()
            for tr in page.html.select("#list-table tbody tr")}


def test_the_value_column_shows_only_with_an_addon_that_values_customers(app):
    big = make(app.env, app.users, "阿里巴巴有限公司", key_customer=True)
    small = make(app.env, app.users, "华信科技有限公司", key_customer=True)
    login(app, ZHANG)
    page = app.get("/customers/key")
    assert sorted(rows(page)) == sorted([big, small])
    assert page.html.select('td[data-field="value"]') == []  # nobody knows values: no column
    assert CALLS == []
    with app.env.ctx() as ctx:
        install_addons(ctx, app.env.catalog, ["dealvalue"])
    VALUES.update({big: Decimal("1234567.5")})
    page = app.get("/customers/key")
    assert value_cells(page) == {big: "¥1,234,567.50", small: "—"}  # a customer no addon values: empty
    assert zh(_("Customer value")) in [th.text.strip() for th in page.html.select("#list-table thead th")]
    assert len(CALLS) == 1 and sorted(CALLS[0]) == sorted([big, small])  # one call for the whole page


def test_the_value_is_asked_once_per_page_whatever_its_size(app):
    ids = [make(app.env, app.users, f"重点客户{n}号有限公司", key_customer=True) for n in range(12)]
    with app.env.ctx() as ctx:
        install_addons(ctx, app.env.catalog, ["dealvalue"])
    VALUES.update({customer_id: Decimal(n) for n, customer_id in enumerate(ids)})
    login(app, ZHANG)
    page = app.get("/customers/key", {"size": "20"})
    assert len(CALLS) == 1 and sorted(CALLS[0]) == sorted(ids)
    assert value_cells(page)[ids[3]] == "¥3.00"
    assert app.get("/customers").html.select('#list-table td[data-field="value"]') == []


def test_cny_formatting():
    assert format_cny(Decimal("0")) == "¥0.00"
    assert format_cny(Decimal("1234.565")) == "¥1,234.57"  # half a fen rounds up
    assert format_cny(Decimal("-98765.4")) == "-¥98,765.40"


# ---------------------------------------------------------------- 2. contacts open their customer


def test_a_contact_row_and_its_customer_link_to_the_customer_page(app):
    customer_id = make(app.env, app.users, "阿里巴巴有限公司")
    with app.env.ctx() as ctx:
        contact_id = services.add_contact(as_user(ctx, app.users["zhang"]), customer_id, name="马云").id
    login(app, ZHANG)
    page = app.get("/customers/contacts")
    row = page.html.select_one(f"#row-{contact_id}")
    name_link = row.select_one('td[data-field="name"] a')
    customer_link = row.select_one('td[data-field="customer_id"] a')
    assert (name_link.text.strip(), customer_link.text.strip()) == ("马云", "阿里巴巴有限公司")
    assert name_link["href"] == customer_link["href"] == f"/customers/contacts/{contact_id}"
    opened = app.get(customer_link["href"], status=303)
    assert opened.location.endswith(f"/customers/{customer_id}#contacts")
    assert f'data-contact-id="{contact_id}"' in opened.follow().text
    login(app, LISI)  # not lisi's customer: the contact's address is not found either
    app.get(f"/customers/contacts/{contact_id}", status=404)
    app.get("/customers/contacts/999999", status=404)


# ---------------------------------------------------------------- 3. a lock after a transfer


def test_a_transferred_lock_stays_within_the_new_owners_limit(company):
    env, users = company
    _pool_id, (first, second, third) = pooled(env, ["锁定一号公司", "锁定二号公司", "李四锁定公司"], max_locked=2,
                                             return_after_days_without_followup=10)
    with env.ctx() as ctx:
        zhang, lisi, wang = (as_user(ctx, users[name]) for name in ("zhang", "lisi", "wang"))
        pools.claim_from_pool(zhang, [first, second])
        pools.claim_from_pool(lisi, [third])
        pool_lock.lock_customer(zhang, first)
        pool_lock.lock_customer(zhang, second)
        pool_lock.lock_customer(lisi, third)
        # lisi already holds one of her two locks: the first transferred keeps its lock, not the second
        assert services.assign_customers(wang, [first, second], users["lisi"]) == 2
        assert ctx.dbsession.get(Customer, first).locked is True
        assert ctx.dbsession.get(Customer, second).locked is False
        assert ctx.dbsession.get(Customer, second).owner_id == users["lisi"]
        move = pools.pool_moves(ctx, second)[0]
        assert (move.action, move.reason, move.user_id) == ("unlocked", "lock_limit:2", users["wang"])
        assert [m.action for m in pools.pool_moves(ctx, first)] == ["locked", "claimed"]
        audited = ctx.dbsession.scalars(select(AuditEntry.changes).where(
            AuditEntry.model == "customers_customer", AuditEntry.record_id == str(second))).all()
        assert any("locked" in (changes or {}) for changes in audited)
        # wang holds no lock: a transfer to him keeps it
        services.assign_customers(lisi, [first], users["wang"])
        assert ctx.dbsession.get(Customer, first).locked is True
        # and an unlocked customer goes back by the rules, the locked one does not
        counts = pools.auto_return_due(later(ctx, days=11))
        assert counts["returned"] == 1
        assert ctx.dbsession.get(Customer, second).owner_id is None
        assert ctx.dbsession.get(Customer, first).owner_id == users["wang"]
        reason = pools.move_reason(move)
        assert zh(reason) == zh(_("The new owner already has the most locked customers of this pool (${limit})",
                                  mapping={"limit": 2}))


def test_a_lock_without_a_pool_limit_follows_the_customer(company):
    env, users = company
    _pool_id, (first,) = pooled(env, ["无上限公司"])
    with env.ctx() as ctx:
        pools.claim_from_pool(as_user(ctx, users["zhang"]), [first])
        pool_lock.lock_customer(as_user(ctx, users["zhang"]), first)
        services.assign_customers(as_user(ctx, users["wang"]), [first], users["lisi"])
        assert ctx.dbsession.get(Customer, first).locked is True
        assert [m.action for m in pools.pool_moves(ctx, first)] == ["locked", "claimed"]


# ---------------------------------------------------------------- 4. automatic-return reasons


def test_the_pool_history_says_why_a_customer_went_back(app):
    pool_id, (customer_id,) = pooled(app.env, ["自动退回有限公司"], return_after_days_without_followup=30)
    with app.env.ctx() as ctx:
        pools.claim_from_pool(as_user(ctx, app.users["zhang"]), [customer_id])
        assert pools.auto_return_due(later(ctx, days=31))["returned"] == 1
        # an older row of the same kind, as earlier versions stored it
        ctx.dbsession.add(PoolMove(customer_id=customer_id, pool_id=pool_id, action="auto_returned",
                                   reason="deal:90", at=ctx.now - dt.timedelta(days=100)))
        ctx.dbsession.add(PoolMove(customer_id=customer_id, pool_id=pool_id, action="returned",
                                   reason="客户说明年再谈", at=ctx.now - dt.timedelta(days=200)))
    followup = zh(_("No follow-up for ${days} days", mapping={"days": 30}))
    deal = zh(_("No deal for ${days} days", mapping={"days": 90}))
    login(app, ZHANG)
    page = app.get(f"/customers/{customer_id}")
    reasons = [div.text.strip() for div in page.html.select(".move-reason")]
    assert followup in reasons and deal in reasons and "客户说明年再谈" in reasons
    assert "followup:30" not in page.text and "deal:90" not in page.text
    login(app, ADMIN)
    history = app.get(f"/customers/pools/{pool_id}/history")
    cells = [tr.select("td")[-1].text.strip() for tr in history.html.select("#pool-history tbody tr")]
    assert followup in cells and deal in cells and "客户说明年再谈" in cells
    assert "followup:30" not in history.text and "deal:90" not in history.text


def test_a_reason_that_only_looks_like_a_code_is_shown_as_typed():
    typed = PoolMove(action="returned", reason="followup:30")  # someone typed it when returning
    assert pools.move_reason(typed) == "followup:30"
    assert pools.move_reason(PoolMove(action="auto_returned", reason="followup:soon")) == "followup:soon"
    assert pools.move_reason(PoolMove(action="auto_returned", reason=None)) is None


# ---------------------------------------------------------------- 5. longer levels


def test_an_administrator_defines_a_vip_level_that_customers_and_pool_rules_use(app):
    login(app, ADMIN)
    post(app, "/customers/settings/choices", [("kind", "level"), ("action", "add"), ("value", "vip"),
                                               ("label", "VIP 客户")], status=303)
    post(app, "/customers/settings/choices", [("kind", "level"), ("action", "add"), ("value", "V" * 21)],
         status=303)
    page = app.get("/customers/settings/choices", {"kind": "level"})
    assert [tr["data-value"] for tr in page.html.select("#choices-table tbody tr")] == ["A", "B", "C", "D", "VIP"]
    assert zh(choices.ChoiceValueInvalid(limit=20).translation_string) in page.text
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Choice).where(
            func.length(Choice.value) > 20)) == 0
    customer_id = make(app.env, app.users, "贵宾客户有限公司", level="VIP")
    pool_id, _ids = pooled(app.env, [])
    form = [("name", "公司公海"), ("department_id", "0"), ("max_owned", ""), ("max_claims_per_day", ""),
            ("reclaim_block_days", "0"), ("return_after_days_without_followup", "30"),
            ("return_after_days_without_deal", ""), ("warn_days_before", "0"), ("max_locked", ""), ("active", "y"),
            ("rule_followup_VIP", "90"), ("rule_deal_VIP", "")]
    post(app, f"/customers/pools/{pool_id}/edit", form, status=303)
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, customer_id).level == "VIP"
        rule = ctx.dbsession.scalar(select(PoolRule).where(PoolRule.pool_id == pool_id))
        assert (rule.level, rule.days_without_followup) == ("VIP", 90)
        pool = pools.pools_for(ctx)[0]
        assert pool_rules.days_for(pool, ctx.dbsession.get(Customer, customer_id),
                                   pool_rules.rules_by_pool(ctx, [pool_id])[pool_id])[0] == 90
    login(app, ZHANG)
    detail = app.get(f"/customers/{customer_id}")
    assert detail.html.select_one("#customer-level")["data-value"] == "VIP"
    assert rows(app.get("/customers", {"filtered": "1", "op.level": "eq", "f.level": "VIP"})) == [customer_id]


def test_the_api_takes_levels_up_to_twenty_characters():
    assert api.CustomerCreate(name="贵宾客户有限公司", level="VIP").level == "VIP"
    assert api.CustomerUpdate(level="L" * 20).level == "L" * 20
    for model, fields in ((api.CustomerCreate, {"name": "贵宾客户有限公司"}), (api.CustomerUpdate, {})):
        with pytest.raises(ValidationError):
            model(**fields, level="L" * 21)


def _column_length(ctx, table, column):
    return next(c["type"].length for c in inspect(ctx.dbsession.connection()).get_columns(table)
                if c["name"] == column)


def _index_names(ctx, table):
    connection = ctx.dbsession.connection()
    if connection.dialect.name == "postgresql":
        return set(ctx.dbsession.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": table}))
    return set(ctx.dbsession.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"),
                                     {"t": table}))


def test_c009_upgrades_a_c008_database_keeping_its_data(company):
    env, users = company
    spec = env.catalog.get("customers")
    with env.ctx() as ctx:
        _run(ctx.dbsession.connection(), "customers", spec.migrations_path, "c008", downgrade=True)
        assert current_revisions(ctx.dbsession.connection(), "customers") == ("c008",)
        assert _column_length(ctx, "customers_customer", "level") == 1
        assert "ix_customers_contact_email_lower" not in _index_names(ctx, "customers_contact")
        customer = services.create_customer(as_user(ctx, users["zhang"]), name="阿里巴巴网络技术有限公司", level="A")
        services.add_contact(as_user(ctx, users["zhang"]), customer.id, name="王磊", email="Wang.Lei@Example.com")
        customer_id = customer.id
    with env.ctx() as ctx:
        upgrade_addons(ctx, env.catalog, ["customers"])
    with env.ctx() as ctx:
        assert current_revisions(ctx.dbsession.connection(), "customers") == ("c009",)
        assert _column_length(ctx, "customers_customer", "level") == 20
        assert _column_length(ctx, "customers_pool_rule", "level") == 20
        assert {"ix_customers_contact_name_lower", "ix_customers_contact_email_lower"} <= _index_names(
            ctx, "customers_contact")
        assert "ix_customers_customer_level" in _index_names(ctx, "customers_customer")
        assert ctx.dbsession.get(Customer, customer_id).level == "A"
        # nothing hanging off the customers went (a SQLite table rebuild would cascade-delete them)
        assert ctx.dbsession.scalars(select(Contact.name).where(Contact.customer_id == customer_id)).all() == ["王磊"]
        ctx.dbsession.get(Customer, customer_id).level = "STRATEGIC"
        ctx.dbsession.flush()
        assert ctx.dbsession.scalar(select(Customer.level).where(Customer.id == customer_id)) == "STRATEGIC"
        # the customer search still answers after SQLite rebuilt the table (its FTS triggers restored)
        assert customer_id in set(ctx.dbsession.scalars(select(Customer.id).where(
            customer_search_condition(ctx, "albb"))))
        if ctx.dbsession.connection().dialect.name == "sqlite":
            present = set(ctx.dbsession.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
            assert set(FTS_TRIGGERS) <= present
        hits = duplicates.find_duplicates(ctx, email="wang.lei@example.COM")
        assert [(hit.customer_id, hit.match) for hit in hits] == [(customer_id, "email")]


# ---------------------------------------------------------------- 6. contact search and e-mail 查重


@pytest.fixture
def contacts(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        customer = services.create_customer(zhang, name="华信科技有限公司")
        people = {name: services.add_contact(zhang, customer.id, name=name, **fields).id for name, fields in (
            ("张伟", {"mobile": "13812345678"}), ("张三丰", {}), ("王张明", {}),
            ("Wang Lei", {"email": "Wang.Lei@Example.COM"}),
        )}
        other = services.create_customer(as_user(ctx, users["lisi"]), name="李四的客户有限公司")
        services.add_contact(as_user(ctx, users["lisi"]), other.id, name="张李四")
    return env, users, customer.id, people


def _found(ctx, query):
    return set(ctx.dbsession.scalars(select(Contact.name).where(contact_search_condition(ctx, query))))


def test_contact_names_are_found_from_their_start_and_mobiles_whole(contacts):
    env, _users, _customer_id, _people = contacts
    with env.ctx() as ctx:
        assert _found(ctx, "张") == {"张伟", "张三丰", "张李四"}  # not 王张明: a name is found from its start
        assert _found(ctx, "张三") == {"张三丰"}
        assert _found(ctx, "wang") == {"Wang Lei"}  # any case
        assert _found(ctx, "ＷＡＮＧ") == {"Wang Lei"}  # full-width typed
        assert _found(ctx, "138 1234 5678") == {"张伟"}
        assert _found(ctx, "1381234") == set()  # part of a mobile finds nothing
        assert _found(ctx, "明") == set()
        assert _found(ctx, "  ") == set()
        assert _found(ctx, "%") == set() and _found(ctx, "_") == set()


def test_the_global_search_finds_contacts_in_scope_only(app):
    customer_id = make(app.env, app.users, "华信科技有限公司")
    theirs = make(app.env, app.users, "李四的客户有限公司", owner="lisi")
    with app.env.ctx() as ctx:
        services.add_contact(as_user(ctx, app.users["zhang"]), customer_id, name="张伟")
        services.add_contact(as_user(ctx, app.users["lisi"]), theirs, name="张李四")
    login(app, ZHANG)
    page = app.get("/search", {"q": "张"})
    section = page.html.select_one('[data-provider="customers.contacts"]')
    assert [a.text.strip() for a in section.select("li a")] == ["张伟"]
    assert section.select_one("li a")["href"] == f"/customers/{customer_id}"


def test_the_contacts_list_searches_the_same_way(app):
    customer_id = make(app.env, app.users, "华信科技有限公司")
    with app.env.ctx() as ctx:
        zhang = as_user(ctx, app.users["zhang"])
        wei = services.add_contact(zhang, customer_id, name="张伟", mobile="13812345678").id
        ming = services.add_contact(zhang, customer_id, name="王张明").id
    login(app, ZHANG)
    assert rows(app.get("/customers/contacts", {"q": "张"})) == [wei]
    assert rows(app.get("/customers/contacts", {"q": "王"})) == [ming]
    assert rows(app.get("/customers/contacts", {"q": "13812345678"})) == [wei]
    assert rows(app.get("/customers/contacts", {"q": "1381234"})) == []


def _plan(ctx, statement):
    compiled = statement.compile(ctx.dbsession.get_bind(), compile_kwargs={"literal_binds": True})
    if ctx.dbsession.connection().dialect.name == "postgresql":
        ctx.dbsession.execute(text("ANALYZE customers_contact"))
        ctx.dbsession.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(ctx.dbsession.scalars(text(f"EXPLAIN {compiled}")))
    return "\n".join(str(row[-1]) for row in ctx.dbsession.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_contact_names_and_emails_are_looked_up_by_index(contacts):
    env, _users, _customer_id, _people = contacts
    with env.ctx() as ctx:
        by_name = _plan(ctx, select(Contact.id).where(contact_search_condition(ctx, "张三")))
        assert "ix_customers_contact_name_lower" in by_name
        by_email = _plan(ctx, select(Contact.customer_id).where(duplicates._same_email("wang.lei@example.com")))
        assert "ix_customers_contact_email_lower" in by_email


def test_duplicates_by_email_ignore_case_and_binned_contacts(contacts):
    env, users, customer_id, people = contacts
    with env.ctx() as ctx:
        lisi = as_user(ctx, users["lisi"])
        for typed in ("wang.lei@example.com", "WANG.LEI@EXAMPLE.COM", " Wang.Lei@Example.COM "):
            hits = duplicates.find_duplicates(lisi, email=typed)
            assert [(hit.customer_id, hit.match, hit.in_scope) for hit in hits] == [(customer_id, "email", False)]
            assert hits[0].name == duplicates.mask_name("华信科技有限公司")  # not lisi's: masked
        assert duplicates.find_duplicates(lisi, email="wang.lei@example.cn") == []
        ctx.dbsession.get(Contact, people["Wang Lei"]).deleted_at = ctx.now  # in the recycle bin: no match
        ctx.dbsession.flush()
        assert duplicates.find_duplicates(lisi, email="wang.lei@example.com") == []
