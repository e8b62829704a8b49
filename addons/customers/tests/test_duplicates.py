"""查重 (D-DUP): exact matches on the normalised name, credit code, contacts' mobile and e-mail;
similar and same-sounding names; masking outside the scope; the fragment under the forms; and
申请转移 with its notification, daily limit and audit entry."""

import dataclasses
import datetime as dt
import json
from urllib.parse import quote

import pytest
from sqlalchemy import select

from addons.customers import services
from addons.customers.duplicates import DuplicateQuery, find_duplicates, mask_name, request_handover
from addons.customers.exceptions import HandoverAlreadyRequested, HandoverNotNeeded
from core.models import AuditEntry, User
from core.notifications.models import Notification

from .conftest import LISI, ZHANG, post

CODE = "91350100M000100Y43"


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


def matches(ctx, **typed):
    """(name shown, match code) of each hit, strongest first."""
    return [(hit.name, hit.match) for hit in find_duplicates(ctx, DuplicateQuery(**typed))]


@pytest.fixture
def world(company):
    """阿里巴巴 (zhang's, with a contact), 上海华信科技 (lisi's, with a credit code), 华鑫科技 (lisi's)."""
    env, users = company
    with env.ctx() as ctx:
        ali = services.create_customer(ctx, name="阿里巴巴（中国）有限公司", owner_id=users["zhang"])
        services.add_contact(ctx, ali.id, name="马", mobile="13800138000", email="Ma@Alibaba.com")
        huaxin = services.create_customer(ctx, name="上海华信科技有限公司", owner_id=users["lisi"], credit_code=CODE)
        services.add_contact(ctx, huaxin.id, name="王", mobile="13900139000", email="wang@huaxin.cn")
        xin = services.create_customer(ctx, name="华鑫科技有限公司", owner_id=users["lisi"])
        ids = {"ali": ali.id, "huaxin": huaxin.id, "xin": xin.id}
    return env, users, ids


def test_mask_name_keeps_the_ends_and_hides_the_length():
    assert mask_name("阿里巴巴(中国)有限公司") == "阿里***公司"
    assert mask_name("华信科技") == "华***技"
    assert mask_name("华信") == "华***"
    assert mask_name("") == "***"


def test_normalised_names_match_whatever_the_width_spaces_and_suffix(world):
    env, users, _ids = world
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        typed_names = ("阿里巴巴(中国)有限公司", "阿里巴巴（中国）有限责任公司",
                       " 阿里 巴巴 有限公司", "阿里巴巴股份有限公司")
        for typed in typed_names:
            assert matches(zhang, name=typed)[0] == ("阿里巴巴（中国）有限公司", "name"), typed
        services.create_customer(ctx, name="ABC Trading有限公司", owner_id=users["zhang"])
        assert matches(zhang, name="ＡＢＣ　ｔｒａｄｉｎｇ 有限责任公司") == [("ABC Trading有限公司", "name")]


def test_similar_and_same_sounding_names_are_found_but_not_unrelated_ones(world):
    env, users, _ids = world
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])  # department scope: sees everything here unmasked
        assert ("上海华信科技有限公司", "similar") in matches(wang, name="上海华兴科技有限公司")
        assert ("上海华信科技有限公司", "similar") in matches(wang, name="华信科技")  # contained
        assert ("华鑫科技有限公司", "pinyin") in matches(wang, name="华心科技")  # huaxinkeji, other characters
        assert matches(wang, name="阿里妈妈") == []
        assert matches(wang, name="百度") == []
        assert matches(wang) == [] and matches(wang, mobile="not a number") == []


def test_credit_code_mobile_and_email_of_contacts_match_exactly(world):
    env, users, ids = world
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])
        assert matches(wang, credit_code=CODE.lower()) == [("上海华信科技有限公司", "credit_code")]
        assert matches(wang, mobile="+86 139-0013-9000") == [("上海华信科技有限公司", "mobile")]
        assert matches(wang, email="ma@alibaba.COM") == [("阿里巴巴（中国）有限公司", "email")]
        assert matches(wang, email="nobody@alibaba.com") == []
        # the strongest reason wins, and the customer being edited is not its own duplicate
        assert matches(wang, name="上海华信科技", credit_code=CODE) == [("上海华信科技有限公司", "credit_code")]
        assert matches(wang, credit_code=CODE, exclude_id=ids["huaxin"]) == []


def test_outside_the_scope_the_name_is_masked_and_there_is_no_link(world):
    env, users, ids = world
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])  # own scope
        [mine] = find_duplicates(zhang, DuplicateQuery(mobile="13800138000"))
        [theirs] = find_duplicates(zhang, DuplicateQuery(mobile="13900139000"))
        wangs = find_duplicates(as_user(ctx, users["wang"]), DuplicateQuery(mobile="13900139000"))
    assert (mine.name, mine.in_scope, mine.url) == ("阿里巴巴（中国）有限公司", True, f"/customers/{ids['ali']}")
    assert (theirs.name, theirs.owner, theirs.in_scope, theirs.url) == ("上海***公司", "李四", False, None)
    assert (wangs[0].name, wangs[0].url) == ("上海华信科技有限公司", f"/customers/{ids['huaxin']}")


def test_a_pool_customer_shows_its_pool_instead_of_an_owner(world):
    from addons.customers.pool import return_to_pool, save_pool

    env, users, ids = world
    with env.ctx() as ctx:
        pool = save_pool(ctx, name="公司公海")
        return_to_pool(ctx, ids["xin"], pool.id, "没有需求")
    with env.ctx() as ctx:
        [hit] = find_duplicates(as_user(ctx, users["zhang"]), DuplicateQuery(name="华鑫科技"))
    assert (hit.owner, hit.pool, hit.owner_id, hit.in_scope) == ("—", "公司公海", None, True)


def test_a_customer_in_the_recycle_bin_is_found_by_name_but_not_by_its_binned_contacts(world):
    env, users, ids = world
    with env.ctx() as ctx:
        services.delete_customer(ctx, ids["ali"])
    with env.ctx() as ctx:
        wang = as_user(ctx, users["wang"])
        [hit] = find_duplicates(wang, DuplicateQuery(name="阿里巴巴"))
        assert (hit.match, hit.kind, hit.in_scope, hit.url) == ("name", "In the recycle bin", False, None)
        assert find_duplicates(wang, DuplicateQuery(mobile="13800138000")) == []


# -- handover (申请转移) -----------------------------------------------------------------------

def test_a_handover_request_notifies_the_owner_and_the_manager_once_a_day(world):
    env, users, ids = world
    with env.ctx() as ctx:
        notified = request_handover(as_user(ctx, users["zhang"]), ids["huaxin"])
    assert notified == [users["lisi"], users["wang"]]
    with env.ctx() as ctx:
        rows = ctx.dbsession.scalars(select(Notification).where(Notification.kind == "customers.handover_requested")
                                     .order_by(Notification.user_id)).all()
        assert sorted(n.user_id for n in rows) == sorted([users["lisi"], users["wang"]])
        assert all("张三" in n.body and n.url == f"/customers/{ids['huaxin']}" for n in rows)
        [entry] = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.action == "request")).all()
        assert (entry.model, entry.record_id, entry.user_id) == ("customers_customer", str(ids["huaxin"]),
                                                                 users["zhang"])
        assert json.loads(entry.detail)["kind"] == "customers.handover_requested"
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        with pytest.raises(HandoverAlreadyRequested):
            request_handover(zhang, ids["huaxin"])
        request_handover(as_user(ctx, users["wang"]), ids["huaxin"])  # another requester: the owner alone
        tomorrow = dataclasses.replace(zhang, now=zhang.now + dt.timedelta(days=1))
        assert request_handover(tomorrow, ids["huaxin"]) == [users["lisi"], users["wang"]]
        with pytest.raises(HandoverNotNeeded):
            request_handover(zhang, ids["ali"])  # already zhang's


def test_the_lookup_page_masks_and_offers_a_handover_that_is_rate_limited(app):
    with app.env.ctx() as ctx:
        huaxin = services.create_customer(ctx, name="上海华信科技有限公司", owner_id=app.users["lisi"]).id
    app.reset()
    app.login(*ZHANG)
    page = app.get("/customers/duplicates", {"name": "华信科技"})
    [hit] = page.html.select("#duplicates .dup-hit")
    assert hit["data-in-scope"] == "false" and hit["data-match"] == "similar"
    assert hit.select_one(".dup-name").get_text() == "上海***公司" and hit.select_one("a.dup-name") is None
    assert "李四" in hit.select_one(".dup-owner").get_text()
    back = hit.select_one("input[name=back]")["value"]
    done = post(app, f"/customers/{huaxin}/handover", [("back", back)], status=303)
    assert done.location.endswith(back)
    again = post(app, f"/customers/{huaxin}/handover", [("back", back)], status=303).follow()
    assert again.html.select(".alert-danger")
    with app.env.ctx() as ctx:
        kinds = ctx.dbsession.scalars(select(Notification.user_id).where(
            Notification.kind == "customers.handover_requested")).all()
        assert sorted(kinds) == sorted([app.users["lisi"], app.users["wang"]])  # once, not twice
    post(app, f"/customers/{huaxin}/handover", [("back", "https://evil.example/")], status=303)  # stays inside


def test_the_form_asks_for_the_fragment_which_lists_the_hits_before_saving(app):
    with app.env.ctx() as ctx:
        services.create_customer(ctx, name="上海华信科技有限公司", owner_id=app.users["lisi"], credit_code=CODE)
    app.reset()
    app.login(*LISI)
    form = app.get("/customers/new")
    for box in ("#duplicate-warning-name", "#duplicate-warning-code"):
        assert form.html.select_one(box)["hx-get"] == "/customers/duplicates/check"
    fragment = app.get("/customers/duplicates/check", {"name": "上海华信科技股份有限公司", "exclude": ""})
    assert "<html" not in fragment.text
    [hit] = fragment.html.select(".dup-hit")
    assert hit["data-match"] == "name" and hit.select_one("a.dup-name").get_text() == "上海华信科技有限公司"
    assert not hit.select(".dup-handover")  # lisi's own: nothing to ask for
    assert app.get("/customers/duplicates/check", {"credit_code": CODE}).html.select(".dup-hit")
    assert app.get("/customers/duplicates/check", {"name": "百度"}).text.strip() == ""
    assert app.get("/customers/duplicates/check", {"name": ""}).text.strip() == ""


def test_the_lookup_page_and_the_fragment_cost_the_same_queries_for_one_hit_or_many(app):
    from .test_pages import count_queries

    def add(*names):
        with app.env.ctx() as ctx:
            for number, name in enumerate(names):
                owner = app.users["lisi" if number % 2 else "zhang"]
                customer = services.create_customer(ctx, name=name, owner_id=owner)
                services.add_contact(ctx, customer.id, name="联系人", email="buyer@huaxin.cn")

    add("上海华信科技有限公司")
    app.reset()
    app.login(*ZHANG)
    typed = "?name=" + quote("华信科技") + "&email=buyer@huaxin.cn"
    urls = ["/customers/duplicates" + typed, "/customers/duplicates/check" + typed]
    for url in urls:  # warm up: once-per-connection look-ups (the search's FTS check) are not per hit
        app.get(url)
    one = [len(count_queries(app, url)) for url in urls]
    add("北京华信科技有限公司", "华信科技（深圳）", "杭州华信科技有限公司", "华信科技股份有限公司")
    many = [len(count_queries(app, url)) for url in urls]
    assert len(app.get(urls[0]).html.select(".dup-hit")) == 5
    assert many == one, (one, many)
