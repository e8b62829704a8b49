"""``/api/v1/leads`` as a program calls it: create (kept or into a pool), read with masking,
PATCH, the claim batch all or nothing with what stops each id, release with a reason, convert —
each refusal a translated problem with nothing written."""

import pytest
from sqlalchemy import func, select

from addons.customers.models import Customer
from addons.leads import services
from addons.leads.models import Lead, LeadPool
from core.api.tokens import create_token
from core.models import User
from core.testing.api import PersonalApi, problem

from .conftest import as_user


@pytest.fixture
def api(app):
    """A write token per person; a lead of zhangsan's (``api.mine``) and the company pool."""
    with app.env.ctx() as ctx:
        tokens = {who: create_token(ctx, ctx.dbsession.get(User, user_id), "sync", "write", 30)[0]
                  for who, user_id in app.users.items() if who in ("zhang", "lisi", "wang", "zhao")}
        mine = services.create_lead(as_user(ctx, app.users["zhang"]), name="杭州云帆科技有限公司",
                                    contact_name="陈经理", mobile="13800138000")
        pool_id = ctx.dbsession.scalars(select(LeadPool.id)).one()
    client = PersonalApi(app, tokens)
    client.mine, client.pool, client.users, client.env = mine.id, pool_id, app.users, app.env
    return client


def test_create_read_and_patch_with_masking_and_scope(api):
    made = api.post("zhang", "/api/v1/leads", {"name": "宁波海联贸易", "budget": "50000", "source": "展会"},
                    status=201).json
    assert (made["owner_id"], made["status"], made["budget"]) == (api.users["zhang"], "new", "50000.00")
    mine = api.get("zhang", f"/api/v1/leads/{api.mine}").json
    assert mine["mobile"] == "138****8000"  # sales may not see the number
    assert api.get("wang", f"/api/v1/leads/{api.mine}").json["mobile"] == "13800138000"  # the manager may
    api.get("lisi", f"/api/v1/leads/{api.mine}", status=404)
    patched = api.patch("zhang", f"/api/v1/leads/{api.mine}", {"status": "qualified"}).json
    assert patched["status"] == "qualified"
    listed = api.get("zhang", "/api/v1/leads?status=qualified").json
    assert [item["id"] for item in listed["items"]] == [api.mine]


def test_create_with_assign_lets_the_rules_pick_the_owner(api):
    from addons.leads.assignment import save_rule

    with api.env.ctx() as ctx:
        save_rule(ctx, name="展会给王五", strategy="user", user_id=api.users["wang"],
                  conditions=[{"field": "source", "op": "eq", "value": "展会"}])
    ruled = api.post("zhao", "/api/v1/leads", {"name": "展会线索", "source": "展会", "assign": True}, status=201).json
    assert (ruled["owner_id"], ruled["pool_id"] is not None) == (api.users["wang"], True)
    pooled = api.post("zhao", "/api/v1/leads", {"name": "官网线索", "source": "官网", "assign": True}, status=201).json
    assert (pooled["owner_id"], pooled["pool_id"]) == (None, api.pool)


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "甲", "budget": "-1"}, "budget"),
    ({"name": "甲", "status": "converted"}, "status"),
    ({"name": "甲", "owner_id": 1}, "owner_id"),
])
def test_bad_bodies_are_refused_and_nothing_is_written(api, body, field):
    refused = problem(api.post("zhang", "/api/v1/leads", body, status=422), 422, "validation_failed")
    assert field in {error["field"] for error in refused["errors"]}
    with api.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 1


def test_claim_is_all_or_nothing_and_release_needs_a_reason(api):
    with api.env.ctx() as ctx:
        free = services.create_lead(ctx, name="池中线索甲", pool_id=api.pool).id
        taken = services.create_lead(ctx, name="池中线索乙", pool_id=api.pool).id
    api.post("lisi", "/api/v1/leads/claim", {"ids": [taken]})
    refused = problem(api.post("zhang", "/api/v1/leads/claim", {"ids": [free, taken]}, status=409), 409,
                      "lead_claim_refused")
    assert [error["field"] for error in refused["errors"]] == ["ids.1"] and "李四" in refused["errors"][0]["message"]
    with api.env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, free).owner_id is None  # nothing claimed
    claimed = api.post("zhang", "/api/v1/leads/claim", {"ids": [free]}).json
    assert [item["owner_id"] for item in claimed["items"]] == [api.users["zhang"]]

    problem(api.post("zhang", f"/api/v1/leads/{free}/release", {"pool_id": api.pool}, status=422), 422,
            "lead_return_reason_required")
    released = api.post("zhang", f"/api/v1/leads/{free}/release", {"pool_id": api.pool, "reason": "没有需求"}).json
    assert (released["owner_id"], released["pool_id"]) == (None, api.pool)


def test_convert_makes_the_customer_or_says_why_not(api):
    problem(api.post("zhang", f"/api/v1/leads/{api.mine}/convert", {}, status=409), 409, "lead_not_qualified")
    api.patch("zhang", f"/api/v1/leads/{api.mine}", {"status": "qualified"})
    done = api.post("zhang", f"/api/v1/leads/{api.mine}/convert", {}).json
    assert (done["lead"]["status"], done["created_customer"]) == ("converted", True)
    assert done["lead"]["customer_id"] == done["customer_id"] and done["contact_id"]
    problem(api.patch("zhang", f"/api/v1/leads/{api.mine}", {"remarks": "再改"}, status=409), 409, "lead_converted")
    with api.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, done["customer_id"]).name == "杭州云帆科技有限公司"
