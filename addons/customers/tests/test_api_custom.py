"""Tags and custom fields in the customers API: read and listed (two queries for a whole page,
whatever its size), written on create and PATCH in the one transaction of the request — a
refused tag or custom value (unknown field, bad number, unknown choice, too many tags) is a
translated 422 naming the field, and nothing is written."""

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from addons.customers import services, tags
from addons.customers.exceptions import TagNameInvalid, TooManyTags
from addons.customers.models import Customer, CustomerTag, Tag
from core.api.tokens import create_token
from core.customfields import services as custom
from core.customfields.exceptions import CustomValueInvalid, CustomValueRequired
from core.customfields.models import CustomValue
from core.i18n import _
from core.models import User
from core.testing.api import PersonalApi, problem

URL = "/api/v1/customers"


@pytest.fixture
def api(app):
    """zhangsan's and wangwu's tokens; custom fields 年采购额 (number), 签约日 (date) and 合作等级
    (choice) on customers (``api.fields``)."""
    with app.env.ctx() as ctx:
        tokens = {who: create_token(ctx, ctx.dbsession.get(User, app.users[who]), "sync", "write", 30)[0]
                  for who in ("zhang", "wang")}
        fields = {"budget": custom.save_field(ctx, "customers_customer", label="年采购额", kind="number").name,
                  "signed": custom.save_field(ctx, "customers_customer", label="签约日", kind="date").name,
                  "grade": custom.save_field(ctx, "customers_customer", label="合作等级", kind="select",
                                             choices="战略\n普通").name}
    client = PersonalApi(app, tokens)
    client.fields, client.users, client.env = fields, app.users, app.env
    return client


def customer(api, name, tag_names=(), values=None, owner="zhang"):
    with api.env.ctx() as ctx:
        created = services.create_customer(ctx, name=name, owner_id=api.users[owner])
        if tag_names:
            tags.set_customer_tags(ctx, created.id, list(tag_names))
        custom.set_values(ctx, created, values or {})
        return created.id


def count(api, model, *where):
    with api.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))


def stored(api, customer_id):
    with api.env.ctx() as ctx:
        return (tags.tag_names(ctx, customer_id), custom.values_for(ctx, Customer, [customer_id])[customer_id])


def zh(error):
    return error.translated("zh_CN")


# ---------------------------------------------------------------- reading


def test_a_customer_reads_with_its_tags_and_json_typed_custom_values(api):
    f = api.fields
    customer_id = customer(api, "上海华信科技有限公司", ["华东", "展会", "重点"],
                           {f["budget"]: "1200000", f["signed"]: "2024-05-31", f["grade"]: "战略"})
    plain = customer(api, "杭州天成贸易有限公司")
    read = api.get("zhang", f"{URL}/{customer_id}").json
    assert read["tags"] == sorted(["华东", "展会", "重点"])
    assert read["custom"] == {f["budget"]: 1200000, f["signed"]: "2024-05-31", f["grade"]: "战略"}
    with api.env.ctx() as ctx:
        custom.set_values(ctx, ctx.dbsession.get(Customer, customer_id), {f["budget"]: "12.5"})
    assert api.get("zhang", f"{URL}/{customer_id}").json["custom"][f["budget"]] == 12.5
    listed = {item["id"]: item for item in api.get("zhang", URL).json["items"]}
    assert (listed[customer_id]["tags"], listed[plain]["tags"], listed[plain]["custom"]) == (
        sorted(["华东", "展会", "重点"]), [], {})
    assert listed[customer_id]["custom"][f["grade"]] == "战略"


def test_the_list_runs_the_same_few_queries_for_2_or_40_customers(api):
    f = api.fields
    for n in range(2):
        customer(api, f"公司{n}", [f"标签{n}", "共同"], {f["budget"]: n, f["grade"]: "普通"})
    engine = api.app.router.registry["kehu.engine"]

    def queries():
        statements = []

        def count_one(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count_one)
        try:
            items = api.get("zhang", f"{URL}?limit=200").json["items"]
        finally:
            event.remove(engine, "before_cursor_execute", count_one)
        return items, statements

    api.get("zhang", URL)  # warm what is not per request
    few_items, few = queries()
    for n in range(2, 40):
        customer(api, f"公司{n}", [f"标签{n}", "共同"], {f["budget"]: n, f["signed"]: "2024-01-02"})
    many_items, many = queries()
    assert (len(few_items), len(many_items)) == (2, 40)
    assert all(item["tags"] and item["custom"] for item in many_items)
    assert len(few) == len(many), "\n".join(many)
    tag_queries = [s for s in many if "customers_customer_tag" in s]
    value_queries = [s for s in many if "core_custom_value" in s]
    assert (len(tag_queries), len(value_queries)) == (1, 1), "\n".join(many)


# ---------------------------------------------------------------- writing


def test_create_with_tags_and_custom_values(api):
    f = api.fields
    body = {"name": "上海华信科技有限公司", "tags": ["重点", " 华东 ", "重点"],
            "custom": {f["budget"]: 1200000.5, f["signed"]: "2024-05-31", f["grade"]: "战略"}}
    created = api.post("zhang", URL, body, status=201).json
    assert created["tags"] == sorted(["华东", "重点"])
    assert created["custom"] == {f["budget"]: 1200000.5, f["signed"]: "2024-05-31", f["grade"]: "战略"}
    names, values = stored(api, created["id"])
    assert sorted(names) == sorted(["华东", "重点"]) and values[f["grade"]] == "战略"
    bare = api.post("zhang", URL, {"name": "杭州天成贸易有限公司"}, status=201).json
    assert (bare["tags"], bare["custom"]) == ([], {})


def test_patch_replaces_the_tags_and_changes_only_the_custom_values_sent(api):
    f = api.fields
    customer_id = customer(api, "上海华信科技有限公司", ["华东", "重点"], {f["budget"]: "100", f["grade"]: "普通"})
    url = f"{URL}/{customer_id}"
    version = api.get("zhang", url).headers["ETag"]
    changed = api.patch("zhang", url, {"tags": ["展会"]})
    assert changed.json["tags"] == ["展会"]
    assert changed.json["custom"] == {f["budget"]: 100, f["grade"]: "普通"}
    assert changed.headers["ETag"] != version  # a new version: a cached copy is not reused
    changed = api.patch("zhang", url, {"custom": {f["grade"]: "战略", f["signed"]: "2025-01-01"}}).json
    assert changed["custom"] == {f["budget"]: 100, f["grade"]: "战略", f["signed"]: "2025-01-01"}
    assert changed["tags"] == ["展会"]
    cleared = api.patch("zhang", url, {"tags": [], "custom": {f["budget"]: None}}).json
    assert (cleared["tags"], cleared["custom"]) == ([], {f["grade"]: "战略", f["signed"]: "2025-01-01"})
    assert stored(api, customer_id) == ([], {f["grade"]: "战略", f["signed"]: dt.date(2025, 1, 1)})
    assigned = api.post("zhang", f"{url}/assign", {"owner_id": api.users["wang"]}).json  # actions answer alike
    assert assigned["custom"][f["grade"]] == "战略" and assigned["tags"] == []


def test_an_unknown_custom_field_is_refused_and_nothing_is_written(api):
    body = {"name": "上海华信科技有限公司", "tags": ["重点"], "custom": {"cf_999999": "x"}}
    refused = problem(api.post("zhang", URL, body, status=422), 422, "validation_failed")
    assert [e["field"] for e in refused["errors"]] == ["custom.cf_999999"]
    assert (count(api, Customer), count(api, Tag)) == (0, 0)
    customer_id = customer(api, "杭州天成贸易有限公司")
    refused = problem(api.patch("zhang", f"{URL}/{customer_id}", {"name": "改名", "custom": {"颜色": "红"}},
                                status=422), 422, "validation_failed")
    assert refused["errors"][0]["field"] == "custom.颜色"
    with api.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, customer_id).name == "杭州天成贸易有限公司"


def test_a_bad_custom_value_is_refused_in_the_readers_language_and_nothing_is_written(api):
    f = api.fields
    body = {"name": "上海华信科技有限公司", "tags": ["重点"], "custom": {f["grade"]: "战略", f["budget"]: "很多"}}
    refused = problem(api.post("zhang", URL, body, status=422), 422, "custom_value_invalid")
    expected = zh(CustomValueInvalid(field="年采购额", problem=_("enter a number")))
    assert refused["detail"] == expected
    assert refused["errors"] == [{"field": f"custom.{f['budget']}", "code": "custom_value_invalid",
                                  "message": expected}]
    assert (count(api, Customer), count(api, Tag), count(api, CustomValue)) == (0, 0, 0)
    customer_id = customer(api, "杭州天成贸易有限公司", ["华东"], {f["grade"]: "普通"})
    url = f"{URL}/{customer_id}"
    for bad, code in (({f["grade"]: "钻石"}, "custom_value_invalid"),
                      ({f["signed"]: "2024-13-01"}, "custom_value_invalid"),
                      ({f["budget"]: True}, "validation_failed"), ({f["grade"]: ["战略"]}, "validation_failed")):
        refused = problem(api.patch("zhang", url, {"name": "改名", "tags": ["新"], "custom": bad}, status=422),
                          422, code)
        assert refused["errors"][0]["field"] == f"custom.{next(iter(bad))}"
    with api.env.ctx() as ctx:
        assert ctx.dbsession.get(Customer, customer_id).name == "杭州天成贸易有限公司"
    assert stored(api, customer_id) == (["华东"], {f["grade"]: "普通"})


def test_a_required_custom_field_must_be_given_on_create(api):
    with api.env.ctx() as ctx:
        region = custom.save_field(ctx, "customers_customer", label="大区", kind="text", required=True).name
    refused = problem(api.post("zhang", URL, {"name": "上海华信科技有限公司"}, status=422), 422,
                      "custom_value_required")
    assert refused["detail"] == zh(CustomValueRequired(field="大区"))
    assert refused["errors"][0]["field"] == f"custom.{region}"
    assert count(api, Customer) == 0
    created = api.post("zhang", URL, {"name": "上海华信科技有限公司", "custom": {region: "华东"}}, status=201).json
    assert created["custom"] == {region: "华东"}
    api.patch("zhang", f"{URL}/{created['id']}", {"custom": {region: ""}}, status=422)  # cannot be blanked


def test_too_many_tags_or_a_tag_too_long_is_refused_and_nothing_is_written(api):
    many = [f"标签{n}" for n in range(tags.PER_CUSTOMER + 1)]
    refused = problem(api.post("zhang", URL, {"name": "上海华信科技有限公司", "tags": many}, status=422), 422,
                      "too_many_tags")
    assert refused["detail"] == zh(TooManyTags(limit=tags.PER_CUSTOMER))
    assert refused["errors"][0]["field"] == "tags"
    long_name = "长" * (tags.NAME_LIMIT + 1)
    refused = problem(api.post("zhang", URL, {"name": "上海华信科技有限公司", "tags": ["好", long_name]}, status=422),
                      422, "tag_name_invalid")
    assert refused["detail"] == zh(TagNameInvalid(name=long_name, limit=tags.NAME_LIMIT))
    assert (count(api, Customer), count(api, Tag)) == (0, 0)
    customer_id = customer(api, "杭州天成贸易有限公司", ["华东"])
    problem(api.patch("zhang", f"{URL}/{customer_id}", {"name": "改名", "tags": many}, status=422), 422,
            "too_many_tags")
    problem(api.patch("zhang", f"{URL}/{customer_id}", {"tags": None}, status=422), 422, "validation_failed")
    assert stored(api, customer_id) == (["华东"], {})
    assert count(api, CustomerTag) == 1
    assert api.get("zhang", f"{URL}/{customer_id}").json["tags"] == ["华东"]


def test_the_openapi_document_describes_tags_and_custom(api):
    schemas = api.get("zhang", "/api/v1/openapi.json").json["components"]["schemas"]
    read, create, update = (schemas[f"customers.customers.{kind}"] for kind in ("Read", "Create", "Update"))
    assert {"tags", "custom"} <= set(read["required"])
    assert read["properties"]["tags"]["type"] == "array"
    assert {"tags", "custom"} <= set(create["properties"]) and {"tags", "custom"} <= set(update["properties"])
