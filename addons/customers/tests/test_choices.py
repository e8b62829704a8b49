"""The administrator's lists (source, level, industry) and tags: upkeep with audit and refusals,
values checked on the form, the import and the API, a deactivated entry kept by the customers
that have it, tags set, shown, filtered and added in bulk, and a list that loads tags in one
query whatever the number of rows."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from addons.customers import choices, services, tags
from addons.customers.exceptions import LevelUnavailable, SourceUnavailable, TagNameInvalid, TooManyTags
from addons.customers.models import Choice, Customer, CustomerTag, Tag
from core.access.exceptions import PermissionDenied
from core.api.tokens import create_token
from core.i18n import localizer_for
from core.jobs import worker
from core.models import AuditEntry, User

from .conftest import WANG, ZHANG, post
from .test_pages import count_queries

ADMIN = ("admin", "Kehu-Test-Pass-42")


def zh(message):
    return localizer_for("zh_CN").translate(message)


def login(app, user):
    app.reset()
    app.login(*user)


def make(app, name, owner="zhang", **fields):
    with app.env.ctx() as ctx:
        return services.create_customer(ctx, name=name, owner_id=app.users[owner], **fields).id


def entry(app, kind, value):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(Choice).where(Choice.kind == kind, Choice.value == value))


def rows(page):
    return [int(tr.attrs["id"].removeprefix("row-")) for tr in page.html.select("#list-table tbody tr")]


# -- the lists and their upkeep ------------------------------------------------------------------

def test_install_seeds_the_default_lists_once(company):
    env, _users = company
    with env.ctx() as ctx:
        assert [c.value for c in choices.choices(ctx, "level")] == ["A", "B", "C", "D"]
        assert choices.labels(ctx, "level")["A"] == "A（重要）"
        sources = [c.value for c in choices.choices(ctx, "source")]
        assert sources == ["官网", "电话营销", "展会", "客户介绍", "广告", "其他"]
        assert len(choices.choices(ctx, "industry")) >= 12
        ctx.dbsession.get(Choice, choices.choices(ctx, "source")[0].id).active = False
        choices.seed_defaults(ctx)  # an upgrade: an administrator's list is never topped up
        assert ctx.dbsession.scalar(select(func.count()).select_from(Choice).where(Choice.kind == "source")) == 6


def test_an_administrator_adds_renames_reorders_and_deactivates_with_audit(app):
    login(app, ADMIN)
    page = app.get("/customers/settings/choices", {"kind": "source"})
    assert [tr["data-value"] for tr in page.html.select("#choices-table tbody tr")][:2] == ["官网", "电话营销"]
    post(app, "/customers/settings/choices", [("kind", "source"), ("action", "add"), ("value", "地推"),
                                               ("label", "地推活动")], status=303)
    added = entry(app, "source", "地推")
    assert (added.label, added.active) == ("地推活动", True)
    post(app, "/customers/settings/choices", [("kind", "source"), ("action", "rename"), ("id", str(added.id)),
                                               ("label", "线下地推")], status=303)
    post(app, "/customers/settings/choices", [("kind", "source"), ("action", "up"), ("id", str(added.id))],
         status=303)
    post(app, "/customers/settings/choices", [("kind", "source"), ("action", "deactivate"), ("id", str(added.id))],
         status=303)
    page = app.get("/customers/settings/choices", {"kind": "source"})
    listed = [(tr["data-value"], tr["data-active"]) for tr in page.html.select("#choices-table tbody tr")]
    assert listed[-2:] == [("地推", "no"), ("其他", "yes")]  # moved up one place, now inactive
    assert entry(app, "source", "地推").label == "线下地推"
    # a value already on the list, or too long for a level, is refused with a message
    post(app, "/customers/settings/choices", [("kind", "source"), ("action", "add"), ("value", "官网")], status=303)
    post(app, "/customers/settings/choices", [("kind", "level"), ("action", "add"), ("value", "A" * 21)],
         status=303)
    page = app.get("/customers/settings/choices", {"kind": "level"})
    assert [tr["data-value"] for tr in page.html.select("#choices-table tbody tr")] == ["A", "B", "C", "D"]
    assert zh(choices.ChoiceValueInvalid(limit=20).translation_string) in page.text
    with app.env.ctx() as ctx:
        audited = ctx.dbsession.scalars(select(AuditEntry.action).where(AuditEntry.model == "customers_choice")
                                        .order_by(AuditEntry.id)).all()
    assert audited == ["create", "update", "update", "update"]


def test_only_administrators_edit_the_lists_and_every_post_needs_its_token(app):
    login(app, WANG)  # a sales manager
    app.get("/customers/settings/choices", status=403)
    post(app, "/customers/settings/choices", [("kind", "source"), ("action", "add"), ("value", "地推")], status=403)
    login(app, ADMIN)
    app.post("/customers/settings/choices", {"kind": "source", "action": "add", "value": "地推"}, status=400)
    assert entry(app, "source", "地推") is None
    with app.env.ctx() as ctx:
        ctx = ctx.as_user(ctx.dbsession.get(User, app.users["wang"]))
        with pytest.raises(PermissionDenied):
            choices.add_choice(ctx, "source", "地推")


# -- values checked everywhere ---------------------------------------------------------------------

def test_the_form_offers_the_active_entries_and_refuses_another_beside_its_field(app):
    login(app, ZHANG)
    page = app.get("/customers/new")
    assert [o["value"] for o in page.html.select("select#level option")] == ["", "A", "B", "C", "D"]
    assert page.html.select_one('select#level option[value="A"]').get_text() == "A（重要）"
    assert "官网" in [o["value"] for o in page.html.select("select#source option")]
    refused = post(app, "/customers/new", [("name", "某某科技有限公司"), ("deal_status", "open"), ("source", "地推"),
                                           ("level", "B")])
    assert refused.status_int == 200
    assert refused.html.select_one("#source-error").get_text() == zh(
        SourceUnavailable(value="地推", field=choices.KINDS["source"]).translation_string)
    refused = post(app, "/customers/new", [("name", "某某科技有限公司"), ("deal_status", "open"), ("level", "Z")])
    assert refused.html.select_one("#level-error") is not None
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 0


def test_the_api_refuses_an_unknown_level_or_source(app):
    with app.env.ctx() as ctx:
        token = create_token(ctx, ctx.dbsession.get(User, app.users["zhang"]), "sync", "write", 30)[0]
    headers = {"Authorization": f"Bearer {token}"}
    refused = app.post_json("/api/v1/customers", {"name": "甲公司", "level": "Z"}, headers=headers, status=422)
    assert "Z" in refused.json["detail"]
    app.post_json("/api/v1/customers", {"name": "甲公司", "source": "地推"}, headers=headers, status=422)
    created = app.post_json("/api/v1/customers", {"name": "甲公司", "source": "展会", "level": "b"}, headers=headers,
                            status=201).json
    assert (created["source"], created["level"]) == ("展会", "B")
    app.patch_json(f"/api/v1/customers/{created['id']}", {"industry": "炼金术"}, headers=headers, status=422)


def test_a_deactivated_entry_is_refused_anew_but_kept_by_its_customers(app):
    customer_id = make(app, "甲公司", source="展会", level="C")
    with app.env.ctx() as ctx:
        for kind, value in (("source", "展会"), ("level", "C")):
            choice = ctx.dbsession.scalar(select(Choice).where(Choice.kind == kind, Choice.value == value))
            choice.active = False
    with app.env.ctx() as ctx, pytest.raises(SourceUnavailable):
        services.create_customer(ctx, name="乙公司", source="展会")
    with app.env.ctx() as ctx, pytest.raises(LevelUnavailable):
        services.set_level(ctx, [customer_id], "C")
    login(app, ZHANG)
    detail = app.get(f"/customers/{customer_id}")
    assert detail.html.select_one("#customer-source").get_text() == "展会"
    assert detail.html.select_one("#customer-level").get_text() == "C（一般）"
    form = app.get(f"/customers/{customer_id}/edit")
    assert form.html.select_one("select#source option[selected]")["value"] == "展会"  # offered while it has it
    post(app, f"/customers/{customer_id}/edit", [("name", "甲公司"), ("deal_status", "won"), ("source", "展会"),
                                                  ("level", "C")], status=303)
    with app.env.ctx() as ctx:
        customer = ctx.dbsession.get(Customer, customer_id)
        assert (customer.source, customer.level, customer.deal_status) == ("展会", "C", "won")
    new = app.get("/customers/new")
    assert "展会" not in [o["value"] for o in new.html.select("select#source option")]
    listed = app.get("/customers")  # the list's filter still offers it: customers have it
    assert "展会" in [o["value"] for o in listed.html.select("select#f-source option")]


def test_the_import_takes_labels_and_tags_and_refuses_unknown_entries(app, catalog):
    login(app, ZHANG)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([
        ["客户名称", "来源", "级别", "行业", "标签"],
        ["上海华信科技有限公司", "展会", "A（重要）", "制造业", "重点，华东、重点"],
        ["北京金桥贸易有限公司", "地推", "B", "", ""],
        ["深圳鼎盛电子有限公司", "官网", "Z", "", ""],
        ["广州远航物流有限公司", "官网", "c", "", "华东"],
    ])
    response = app.post("/imports/new/customers.customers", {"csrf_token": app.csrf_token()},
                        upload_files=[("file", "customers.csv", buffer.getvalue().encode("utf-8"))], status=303)
    import_id = int(re.search(r"/imports/(\d+)/mapping$", response.location).group(1))
    mapping = app.get(f"/imports/{import_id}/mapping")
    assert 'value="tags" selected' in mapping.text  # 标签 maps by itself
    app.post_form(f"/imports/{import_id}/mapping", {"col-0": "name", "col-1": "source", "col-2": "level",
                                                    "col-3": "industry", "col-4": "tags"}, status=303)
    app.post_form(f"/imports/{import_id}/preview", {"mode": "create", "key_field": ""}, status=303)
    worker.Worker(app.env.engine, catalog, app.env.settings).run(until_idle=True)
    errors = list(csv.reader(io.StringIO(app.get(f"/imports/{import_id}/errors.csv").body.decode("utf-8-sig"))))
    reasons = {row[0]: row[1] for row in errors[1:]}
    assert set(reasons) == {"3", "4"}
    assert zh(SourceUnavailable(value="地推", field=choices.KINDS["source"]).translation_string) in reasons["3"]
    assert zh(LevelUnavailable(value="Z", field=choices.KINDS["level"]).translation_string) in reasons["4"]
    with app.env.ctx() as ctx:
        saved = {c.name: (c.source, c.level, c.industry) for c in ctx.dbsession.scalars(select(Customer))}
        assert saved == {"上海华信科技有限公司": ("展会", "A", "制造业"), "广州远航物流有限公司": ("官网", "C", None)}
        first = ctx.dbsession.scalar(select(Customer.id).where(Customer.name == "上海华信科技有限公司"))
        assert tags.tag_names(ctx, first) == ["华东", "重点"]


# -- tags --------------------------------------------------------------------------------------------

def test_tags_set_on_the_form_show_on_the_page_and_the_list(app):
    login(app, ZHANG)
    created = post(app, "/customers/new", [("name", "甲公司"), ("deal_status", "open"),
                                           ("tag_names", "重点客户, 华东，展会")], status=303)
    customer_id = int(re.search(r"/customers/(\d+)$", created.location).group(1))
    detail = app.get(f"/customers/{customer_id}")
    assert [t["data-tag"] for t in detail.html.select(".customer-tag")] == ["华东", "展会", "重点客户"]
    edit = app.get(f"/customers/{customer_id}/edit")
    assert edit.html.select_one("#tag_names")["value"] == "华东, 展会, 重点客户"
    post(app, f"/customers/{customer_id}/edit", [("name", "甲公司"), ("deal_status", "open"),
                                                  ("tag_names", "华东")], status=303)
    listed = app.get("/customers")
    cells = [td.get_text(strip=True) for td in listed.html.select(f"#row-{customer_id} td")]
    assert "华东" in cells
    too_long = post(app, f"/customers/{customer_id}/edit", [("name", "甲公司"), ("deal_status", "open"),
                                                             ("tag_names", "这" * 31)])
    assert too_long.html.select_one("#tag_names-error").get_text() == zh(
        TagNameInvalid(name="这" * 31, limit=tags.NAME_LIMIT).translation_string)
    with app.env.ctx() as ctx:
        assert tags.tag_names(ctx, customer_id) == ["华东"]  # the refused save changed nothing
        assert ctx.dbsession.scalar(select(func.count()).select_from(Tag)) == 3  # unused tags stay for later
        with pytest.raises(TooManyTags):
            tags.set_customer_tags(ctx, customer_id, [f"标签{n}" for n in range(tags.PER_CUSTOMER + 1)])


def test_the_list_filters_by_tag_and_adds_one_in_bulk(app):
    a, b, c = make(app, "甲公司"), make(app, "乙公司"), make(app, "丙公司")
    with app.env.ctx() as ctx:
        tags.set_customer_tags(ctx, a, "重点, 华东")
        tags.set_customer_tags(ctx, b, "华东")
        key = ctx.dbsession.scalar(select(Tag.id).where(Tag.name == "重点"))
        east = ctx.dbsession.scalar(select(Tag.id).where(Tag.name == "华东"))
    login(app, ZHANG)
    page = app.get("/customers")
    assert {o.get_text() for o in page.html.select("select#f-tags option")} >= {"重点", "华东"}

    def listed(op, value=""):
        return sorted(rows(app.get("/customers", {"filtered": "1", "op.tags": op, "f.tags": value})))

    assert listed("eq", str(key)) == [a]
    assert listed("ne", str(key)) == sorted([b, c])
    assert listed("empty") == [c]
    assert listed("not_empty") == sorted([a, b])
    pairs = [("action", "add_tag"), ("scope", "selected"), ("query", ""), ("value", str(key)),
             ("ids", str(b)), ("ids", str(c))]
    assert post(app, "/customers/bulk", pairs).html.select_one("#bulk-count")["data-count"] == "2"
    post(app, "/customers/bulk", [*pairs, ("confirm", "1")], status=303)
    assert listed("eq", str(key)) == sorted([a, b, c])
    # "every matching row": 华东 for all customers tagged 重点 (a already has it)
    everyone = [("action", "add_tag"), ("scope", "all"), ("value", str(east)),
                ("query", f"filtered=1&op.tags=eq&f.tags={key}")]
    post(app, "/customers/bulk", [*everyone, ("confirm", "1")], status=303)
    assert listed("eq", str(east)) == sorted([a, b, c])
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(CustomerTag)) == 6


def test_the_list_loads_tags_with_a_bounded_number_of_queries(app):
    with app.env.ctx() as ctx:
        tags.tags_named(ctx, ["重点", "华东", "展会"])
    for n in range(3):
        customer_id = make(app, f"公司{n}")
        with app.env.ctx() as ctx:
            tags.set_customer_tags(ctx, customer_id, "重点, 华东")
    login(app, ZHANG)
    few = count_queries(app, "/customers?size=100")
    for n in range(3, 40):
        customer_id = make(app, f"公司{n}")
        with app.env.ctx() as ctx:
            tags.set_customer_tags(ctx, customer_id, ["展会", "华东"][: 1 + n % 2])
    many = count_queries(app, "/customers?size=100")
    assert len(few) == len(many), "\n".join(many)
    assert sum("customers_customer_tag" in s for s in many) == 1, "\n".join(many)


def test_a_filter_on_no_column_needs_a_where_and_a_kind():
    """The core's ``Filter.where`` (a many-to-many) is checked at start-up like any filter."""
    from pyramid.exceptions import ConfigurationError

    from addons.customers.lists import CUSTOMERS_LIST
    from core.lists.declaration import Filter

    def with_filter(filter_):
        return CUSTOMERS_LIST.__class__(**{**CUSTOMERS_LIST.__dict__, "filters": (filter_,)})

    with_filter(Filter("tags", "Tag", choices=tags.tag_choices, where=tags.tag_condition)).check()
    with pytest.raises(ConfigurationError, match="names no column"):
        with_filter(Filter("tags", "Tag", choices=tags.tag_choices)).check()
    with pytest.raises(ConfigurationError, match="give it a kind or choices"):
        with_filter(Filter("tags", "Tag", where=tags.tag_condition)).check()
    with pytest.raises(ConfigurationError, match="has a where but names a column"):
        with_filter(Filter("level", "Level", choices=[], where=tags.tag_condition)).check()
