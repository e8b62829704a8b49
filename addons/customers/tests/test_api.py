"""The addon's JSON API as a program calls it (a personal access token per person): contacts and
follow-ups with their scopes and masking, and the customer actions assign, claim, release and
duplicates — each accepted, and each refusal a translated problem with nothing written."""

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from addons.customers import pool as pools
from addons.customers import services
from addons.customers.exceptions import AlreadyClaimed, ReasonRequired
from addons.customers.models import Contact, Customer, Followup, PoolMove
from core.api.tokens import create_token
from core.models import AuditEntry, User
from core.notifications.models import Notification
from core.testing.api import PersonalApi, problem
from core.users.services import set_active


def as_user(ctx, user_id):
    return ctx.as_user(ctx.dbsession.get(User, user_id))


@pytest.fixture
def api(app):
    """zhangsan and lisi (sales) and wangwu (their manager), a write token each; a customer of
    each salesperson (``api.ids``) and a company pool (``api.pool``)."""
    with app.env.ctx() as ctx:
        tokens = {who: create_token(ctx, ctx.dbsession.get(User, user_id), "sync", "write", 30)[0]
                  for who, user_id in app.users.items()}
        mine = services.create_customer(as_user(ctx, app.users["zhang"]), name="上海华信科技有限公司")
        theirs = services.create_customer(as_user(ctx, app.users["lisi"]), name="杭州天成贸易有限公司")
        pool = pools.save_pool(ctx, name="公司公海", max_owned=3)
        ids = {"mine": mine.id, "theirs": theirs.id}
    client = PersonalApi(app, tokens)
    client.ids, client.pool, client.users, client.env = ids, pool.id, app.users, app.env
    return client


def _in_pool(api, *names):
    with api.env.ctx() as ctx:
        ids = []
        for name in names:
            customer = services.create_customer(ctx, name=name)
            customer.pool_id = api.pool
            ids.append(customer.id)
        ctx.dbsession.flush()
        return ids


def count(api, model, *where):
    with api.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))


def zh(error):
    """An error's message as a zh_CN reader gets it (the addon's catalogue included)."""
    return error.translated("zh_CN")


# ---------------------------------------------------------------- contacts


def test_contacts_are_created_listed_changed_and_masked(api):
    created = api.post("zhang", "/api/v1/contacts", {"customer_id": api.ids["mine"], "name": "王伟",
                                                      "mobile": "13812345678", "email": "wang@example.com"},
                       status=201).json
    assert created["owner_id"] == api.users["zhang"]  # the customer's owner
    assert created["mobile"] != "13812345678" and created["mobile"].endswith("5678")  # sales: masked
    assert api.get("wang", f"/api/v1/contacts/{created['id']}").json["mobile"] == "13812345678"
    listed = api.get("zhang", f"/api/v1/contacts?customer_id={api.ids['mine']}").json["items"]
    assert [c["id"] for c in listed] == [created["id"]]
    assert api.get("zhang", f"/api/v1/contacts?customer_id={api.ids['theirs']}").json["items"] == []
    changed = api.patch("zhang", f"/api/v1/contacts/{created['id']}", {"title": "采购经理"}).json
    assert (changed["title"], changed["name"]) == ("采购经理", "王伟")
    api.delete("zhang", f"/api/v1/contacts/{created['id']}", status=403)  # managers delete
    api.delete("wang", f"/api/v1/contacts/{created['id']}")
    assert count(api, Contact) == 0
    assert count(api, AuditEntry, AuditEntry.model == "customers_contact") == 3


def test_contacts_refused_outside_the_scope_or_with_a_bad_mobile(api):
    body = {"customer_id": api.ids["theirs"], "name": "李娜"}
    problem(api.post("zhang", "/api/v1/contacts", body, status=404), 404, "not_found")
    bad = api.post("zhang", "/api/v1/contacts", {**body, "customer_id": api.ids["mine"], "mobile": "12345"},
                   status=422)
    problem(bad, 422, "mobile_invalid")
    assert count(api, Contact) == 0
    with api.env.ctx() as ctx:
        theirs = services.add_contact(as_user(ctx, api.users["lisi"]), api.ids["theirs"], name="李娜").id
    problem(api.get("zhang", f"/api/v1/contacts/{theirs}", status=404), 404, "not_found")
    api.patch("zhang", f"/api/v1/contacts/{theirs}", {"name": "改名"}, status=404)


# ---------------------------------------------------------------- follow-ups


def test_followups_are_added_to_a_visible_customer(api):
    created = api.post("zhang", "/api/v1/followups", {"customer_id": api.ids["mine"], "kind": "phone",
                                                       "content": "约了下周演示", "next_step": "演示"},
                       status=201).json
    assert (created["owner_id"], created["kind"]) == (api.users["zhang"], "phone")
    with api.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, api.ids["mine"]).last_followup_at is not None
    listed = api.get("wang", f"/api/v1/followups?customer_id={api.ids['mine']}").json["items"]
    assert [f["content"] for f in listed] == ["约了下周演示"]
    api.patch("zhang", f"/api/v1/followups/{created['id']}", {"content": "改"}, status=403)  # managers edit
    corrected = api.patch("wang", f"/api/v1/followups/{created['id']}", {"content": "电话沟通"}).json
    assert corrected["content"] == "电话沟通"
    api.delete("wang", f"/api/v1/followups/{created['id']}")
    assert count(api, Followup) == 0


def test_a_new_owner_reads_the_customers_follow_ups(api):
    written = api.post("zhang", "/api/v1/followups", {"customer_id": api.ids["mine"], "kind": "visit",
                                                       "content": "拜访了采购经理"}, status=201).json
    api.get("lisi", f"/api/v1/followups/{written['id']}", status=404)
    api.post("zhang", f"/api/v1/customers/{api.ids['mine']}/assign", {"owner_id": api.users["lisi"]})
    assert api.get("lisi", f"/api/v1/followups/{written['id']}").json["content"] == "拜访了采购经理"
    listed = api.get("lisi", f"/api/v1/followups?customer_id={api.ids['mine']}").json["items"]
    assert [f["id"] for f in listed] == [written["id"]]
    api.patch("lisi", f"/api/v1/followups/{written['id']}", {"content": "改"}, status=403)  # reading, not editing


def test_followups_refused_bad_input_and_other_peoples_customers(api):
    body = {"customer_id": api.ids["mine"], "kind": "phone", "content": "聊了聊"}
    problem(api.post("lisi", "/api/v1/followups", body, status=404), 404, "not_found")
    problem(api.post("zhang", "/api/v1/followups", {**body, "kind": "fax"}, status=422), 422, "validation_failed")
    empty = problem(api.post("zhang", "/api/v1/followups", {**body, "content": "  "}, status=422), 422,
                    "content_required")
    assert empty["detail"]
    assert count(api, Followup) == 0


# ---------------------------------------------------------------- assign


def test_assign_moves_the_customer_and_tells_the_new_owner(api):
    url = f"/api/v1/customers/{api.ids['mine']}/assign"
    with api.env.ctx() as ctx:
        services.add_contact(as_user(ctx, api.users["zhang"]), api.ids["mine"], name="王伟")
    assigned = api.post("zhang", url, {"owner_id": api.users["lisi"]}).json
    assert assigned["owner_id"] == api.users["lisi"]
    with api.env.ctx() as ctx:
        assert ctx.dbsession.scalars(select(Contact.owner_id)).all() == [api.users["lisi"]]
        assert ctx.dbsession.scalars(select(Notification.user_id).where(
            Notification.kind == "customers.assigned")).all() == [api.users["lisi"]]
    problem(api.post("zhang", url, {"owner_id": api.users["zhang"]}, status=404), 404, "not_found")


def test_assign_to_a_disabled_user_or_outside_the_scope_writes_nothing(api):
    with api.env.ctx() as ctx:
        set_active(ctx, ctx.dbsession.get(User, api.users["lisi"]), False)
    url = f"/api/v1/customers/{api.ids['mine']}/assign"
    problem(api.post("zhang", url, {"owner_id": api.users["lisi"]}, status=422), 422, "unknown_choice")
    problem(api.post("zhang", url, {"owner_id": 999999}, status=422), 422, "unknown_choice")
    problem(api.post("zhang", url, {"owner_id": api.users["wang"], "colour": "red"}, status=422), 422,
            "validation_failed")
    problem(api.post("zhang", f"/api/v1/customers/{api.ids['theirs']}/assign", {"owner_id": api.users["zhang"]},
                     status=404), 404, "not_found")
    assert count(api, Customer, Customer.owner_id == api.users["zhang"]) == 1
    assert count(api, Notification) == 0


# ---------------------------------------------------------------- claim


def test_claim_from_the_pool(api):
    first, second = _in_pool(api, "一号科技有限公司", "二号科技有限公司")
    claimed = api.post("zhang", "/api/v1/customers/claim", {"ids": [first, second]}).json["items"]
    assert [(c["id"], c["owner_id"]) for c in claimed] == [(first, api.users["zhang"]), (second, api.users["zhang"])]
    assert count(api, PoolMove, PoolMove.action == "claimed") == 2


def test_claiming_an_owned_customer_or_past_the_limit_claims_nothing(api):
    free, taken, third, fourth = _in_pool(api, "一号公司", "二号公司", "三号公司", "四号公司")
    with api.env.ctx() as ctx:
        pools.claim_from_pool(as_user(ctx, api.users["lisi"]), [taken])
    one = problem(api.post("zhang", "/api/v1/customers/claim", {"ids": [taken]}, status=409), 409, "already_claimed")
    assert one["detail"] == zh(AlreadyClaimed(name="二号公司", owner="李四"))
    batch = problem(api.post("zhang", "/api/v1/customers/claim", {"ids": [free, taken]}, status=409), 409,
                    "claim_refused")
    assert [(e["field"], e["code"]) for e in batch["errors"]] == [("ids.1", "already_claimed")]
    # max_owned=3 and zhangsan owns one already: three more pass none of them, as a whole
    limit = problem(api.post("zhang", "/api/v1/customers/claim", {"ids": [free, third, fourth]}, status=409), 409,
                    "claim_refused")
    assert [(e["field"], e["code"]) for e in limit["errors"]] == [("ids", "claim_limit_owned")]
    problem(api.post("zhang", "/api/v1/customers/claim", {"ids": [api.ids["theirs"]]}, status=404), 404,
            "pool_unavailable")
    problem(api.post("zhang", "/api/v1/customers/claim", {"ids": []}, status=422), 422, "validation_failed")
    assert count(api, Customer, Customer.owner_id == api.users["zhang"]) == 1
    assert count(api, PoolMove, PoolMove.user_id == api.users["zhang"]) == 0
    api.get("zhang", "/api/v1/customers/claim", status=405)


# ---------------------------------------------------------------- release


def test_release_needs_a_reason_and_the_right_to_change_the_customer(api):
    url = f"/api/v1/customers/{api.ids['mine']}/release"
    refused = problem(api.post("zhang", url, {"pool_id": api.pool}, status=422), 422, "reason_required")
    assert refused["detail"] == zh(ReasonRequired())
    problem(api.post("zhang", url, {"pool_id": api.pool, "reason": "   "}, status=422), 422, "reason_required")
    problem(api.post("zhang", url, {"pool_id": 999999, "reason": "停业"}, status=404), 404, "pool_unavailable")
    problem(api.post("lisi", url, {"pool_id": api.pool, "reason": "停业"}, status=404), 404, "not_found")
    assert count(api, Customer, Customer.owner_id == api.users["zhang"]) == 1
    released = api.post("zhang", url, {"pool_id": api.pool, "reason": "客户已停业"}).json
    assert (released["owner_id"], released["id"]) == (None, api.ids["mine"])
    with api.env.ctx() as ctx:
        move = ctx.dbsession.scalars(select(PoolMove)).one()
        assert (move.action, move.reason, move.previous_owner_id) == ("returned", "客户已停业", api.users["zhang"])


# ---------------------------------------------------------------- duplicates


def test_duplicates_name_only_the_company_and_its_owner(api):
    found = api.get("zhang", "/api/v1/customers/duplicates?name=" + quote("杭州天成贸易有限责任公司")).json["items"]
    # lisi's: outside zhangsan's scope, so masked and without its id
    assert found == [{"name": "杭州***公司", "owner": "李四", "match": "name", "in_scope": False,
                      "customer_id": None, "pool": None}]
    own = api.get("zhang", "/api/v1/customers/duplicates?name=" + quote("上海华信科技")).json["items"]
    assert (own[0]["name"], own[0]["customer_id"], own[0]["in_scope"]) == ("上海华信科技有限公司", api.ids["mine"],
                                                                           True)
    assert api.get("zhang", "/api/v1/customers/duplicates").json["items"] == []
    problem(api.get("zhang", "/api/v1/customers/duplicates?nosuch=1", status=400), 400, "bad_parameter")
    problem(api.get("zhang", "/api/v1/customers/duplicates?name=" + "x" * 201, status=422), 422,
            "validation_failed")


# ---------------------------------------------------------------- documentation


def test_the_openapi_document_lists_the_resources_actions_and_their_errors(api):
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    document = api.get("zhang", "/api/v1/openapi.json").json
    assert jsonschema_rs.validator_for(OPENAPI_31).is_valid(document)
    paths = document["paths"]
    for path in ("/api/v1/contacts", "/api/v1/followups/{id}", "/api/v1/customers/{id}/assign",
                 "/api/v1/customers/{id}/release"):
        assert path in paths
    claim = paths["/api/v1/customers/claim"]["post"]["responses"]
    assert "`claim_limit_owned`" in claim["409"]["description"]
    assert "`pool_unavailable`" in claim["404"]["description"]
    release = paths["/api/v1/customers/{id}/release"]["post"]["responses"]
    assert "`reason_required`" in release["422"]["description"]
    query = [p["name"] for p in paths["/api/v1/customers/duplicates"]["get"]["parameters"]]
    assert query == ["name", "mobile", "credit_code", "email"]
