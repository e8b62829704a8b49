"""Lead tags (线索标签): set on the lead form in the same savepoint as the lead (a refused tag
beside its field, nothing written), shown as badges on the lead page and as a list column loaded
in one query, a list filter, a bulk "add a tag" within the user's write scope, audited; the API
reads and writes them; the customers' name rules (length, how many) apply."""

import re

import pytest
from sqlalchemy import func, select

from addons.customers.exceptions import TagNameInvalid, TooManyTags
from addons.customers.models import Tag
from addons.customers.tests.conftest import post
from addons.customers.tests.test_pages import login, rows, zh
from addons.leads import services, tags
from addons.leads.exceptions import TooManyLeadTags
from addons.leads.models import Lead, LeadTag, LeadTagLink
from core.access.exceptions import PermissionDenied
from core.api.tokens import create_token
from core.models import AuditEntry, User
from core.testing.api import PersonalApi, problem
from core.testing.queries import count_queries

from .conftest import LISI, WANG, ZHANG, as_user


def make(app, name, owner="zhang", **fields):
    with app.env.ctx() as ctx:
        return services.create_lead(as_user(ctx, app.users[owner]), name=name, **fields).id


def names(app, lead_id):
    with app.env.ctx() as ctx:
        return tags.tag_names(ctx, lead_id)


def count(app, model, *where):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))


def tag_id(app, name):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(LeadTag.id).where(LeadTag.name == name))


# -- services -----------------------------------------------------------------------------------

def test_tags_are_parsed_created_once_replaced_and_audited(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        lead = services.create_lead(zhang, name="标签科技有限公司", tags="重点, 华东，展会、重点")
        lead_id = lead.id
        assert tags.tag_names(ctx, lead_id) == ["华东", "展会", "重点"]
        services.update_lead(zhang, lead_id, tags=["华东", "复购"])
        assert tags.tag_names(ctx, lead_id) == ["华东", "复购"]
        services.update_lead(zhang, lead_id, remarks="只改备注")  # tags not given: kept
        assert tags.tag_names(ctx, lead_id) == ["华东", "复购"]
        assert tags.set_lead_tags(zhang, lead_id, "") == []
        assert ctx.dbsession.scalar(select(func.count()).select_from(LeadTag)) == 4  # unused tags stay for later
        assert ctx.dbsession.scalar(select(func.count()).select_from(Tag)) == 0  # the customers' tags are apart
        audited = ctx.dbsession.scalars(select(AuditEntry.changes).where(
            AuditEntry.model == "leads_lead", AuditEntry.record_id == str(lead_id)).order_by(AuditEntry.id)).all()
        tag_changes = [entry["tags"] for entry in audited if "tags" in entry]
        assert tag_changes == [[None, "华东, 展会, 重点"], ["华东, 展会, 重点", "华东, 复购"], ["华东, 复购", ""]]


def test_the_customers_tag_rules_refuse_before_anything_is_written(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        with pytest.raises(TagNameInvalid):
            services.create_lead(zhang, name="长标签公司", tags="这" * (tags.NAME_LIMIT + 1))
        with pytest.raises(TooManyTags) as too_many:  # the customers' refusal, worded for a lead
            services.create_lead(zhang, name="多标签公司", tags=[f"标签{n}" for n in range(tags.PER_LEAD + 1)])
        assert isinstance(too_many.value, TooManyLeadTags)
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 0
        assert ctx.dbsession.scalar(select(func.count()).select_from(LeadTag)) == 0
        lead_id = services.create_lead(zhang, name="已有标签公司", tags="重点").id
        with pytest.raises(TagNameInvalid):
            services.update_lead(zhang, lead_id, remarks="不该保存", tags="这" * 31)
        assert tags.tag_names(ctx, lead_id) == ["重点"]


def test_only_who_may_change_the_lead_sets_its_tags(company):
    env, users = company
    with env.ctx() as ctx:
        lead_id = services.create_lead(as_user(ctx, users["zhang"]), name="别人的线索公司").id
    with env.ctx() as ctx:
        from core.access.exceptions import RecordNotFound

        with pytest.raises(RecordNotFound):
            tags.set_lead_tags(as_user(ctx, users["lisi"]), lead_id, "抢标签")
        assert tags.add_tag(as_user(ctx, users["lisi"]), [lead_id], tags.tags_named(ctx, ["抢标签"])[0].id) == 0
        assert tags.tag_names(ctx, lead_id) == []
    with env.ctx() as ctx:  # a reader without leads.lead:write
        from core.users.services import create_user

        auditor = create_user(ctx, "shenji", "Quiet-Lake-55", roles=["auditor"])
        with pytest.raises(PermissionDenied):
            tags.add_tag(ctx.as_user(auditor), [lead_id], tags.tags_named(ctx, ["审计"])[0].id)


# -- the pages ----------------------------------------------------------------------------------

def test_tags_set_on_the_form_show_on_the_page_and_in_the_list(app):
    login(app, ZHANG)
    form = app.get("/leads/new").forms["lead-form"]
    form["name"], form["tag_names"] = "表单标签有限公司", "高意向, 展会，需要演示"
    created = form.submit(status=303)
    lead_id = int(re.search(r"/leads/(\d+)$", created.location).group(1))
    page = app.get(f"/leads/{lead_id}")
    assert [t["data-tag"] for t in page.html.select(".lead-tag")] == ["展会", "需要演示", "高意向"]
    edit = app.get(f"/leads/{lead_id}/edit").forms["lead-form"]
    assert edit["tag_names"].value == "展会, 需要演示, 高意向"
    edit["tag_names"] = "展会"
    edit.submit(status=303)
    assert names(app, lead_id) == ["展会"]
    cells = [td.get_text(strip=True) for td in app.get("/leads").html.select(f"#row-{lead_id} td")]
    assert "展会" in cells


def test_a_refused_tag_is_shown_beside_the_field_and_nothing_is_written(app):
    login(app, ZHANG)
    form = app.get("/leads/new").forms["lead-form"]
    form["name"], form["tag_names"] = "坏标签有限公司", "这" * 31
    page = form.submit(status=200)
    assert page.html.select_one("#tag_names-error").get_text() == zh(
        TagNameInvalid(name="这" * 31, limit=tags.NAME_LIMIT).translation_string)
    assert (count(app, Lead), count(app, LeadTag)) == (0, 0)  # the lead's savepoint is undone too
    form = page.forms["lead-form"]
    form["tag_names"] = ", ".join(f"标签{n}" for n in range(tags.PER_LEAD + 1))
    page = form.submit(status=200)
    assert page.html.select_one("#tag_names-error").get_text() == zh(
        TooManyLeadTags(limit=tags.PER_LEAD).translation_string)
    assert (count(app, Lead), count(app, LeadTag)) == (0, 0)
    lead_id = make(app, "已存标签公司", tags="重点")
    edit = app.get(f"/leads/{lead_id}/edit").forms["lead-form"]
    edit["remarks"], edit["tag_names"] = "不该保存的备注", "这" * 31
    assert edit.submit(status=200).html.select_one("#tag_names-error") is not None
    assert names(app, lead_id) == ["重点"]
    with app.env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, lead_id).remarks is None


def test_the_list_filters_by_tag_and_adds_one_in_bulk(app):
    a, b, c = make(app, "甲标签公司", tags="重点, 华东"), make(app, "乙标签公司", tags="华东"), make(app, "丙标签公司")
    converted = make(app, "丁已转化公司", status="qualified")
    with app.env.ctx() as ctx:
        from addons.leads.conversion import convert_lead

        convert_lead(as_user(ctx, app.users["zhang"]), converted)
    theirs = make(app, "李四的标签公司", owner="lisi")
    key, east = tag_id(app, "重点"), tag_id(app, "华东")
    login(app, ZHANG)
    page = app.get("/leads")
    assert {o.get_text() for o in page.html.select("select#f-tags option")} >= {"重点", "华东"}

    def listed(op, value=""):
        return sorted(rows(app.get("/leads", {"filtered": "1", "op.tags": op, "f.tags": value})))

    assert listed("eq", str(key)) == [a]
    assert listed("ne", str(key)) == sorted([b, c, converted])
    assert listed("empty") == sorted([c, converted])
    assert listed("not_empty") == sorted([a, b])
    pairs = [("action", "add_tag"), ("scope", "selected"), ("query", ""), ("value", str(key)),
             ("ids", str(b)), ("ids", str(c)), ("ids", str(converted)), ("ids", str(theirs))]
    post(app, "/leads/bulk", [*pairs, ("confirm", "1")], status=303)
    assert listed("eq", str(key)) == sorted([a, b, c])  # not the converted lead (read-only), not lisi's
    assert names(app, theirs) == [] and names(app, converted) == []
    everyone = [("action", "add_tag"), ("scope", "all"), ("value", str(east)),
                ("query", f"filtered=1&op.tags=eq&f.tags={key}")]
    post(app, "/leads/bulk", [*everyone, ("confirm", "1")], status=303)
    assert listed("eq", str(east)) == sorted([a, b, c])
    assert count(app, LeadTagLink) == 6
    assert count(app, AuditEntry, AuditEntry.model == "leads_lead", AuditEntry.record_id == str(c)) == 3
    login(app, LISI)
    assert rows(app.get("/leads", {"filtered": "1", "op.tags": "eq", "f.tags": str(key)})) == []


def test_the_list_loads_tags_with_a_bounded_number_of_queries(app):
    for n in range(3):
        make(app, f"标签线索{n}", tags="重点, 华东")
    login(app, WANG)
    few = count_queries(app, "/leads?size=100")
    for n in range(3, 40):
        make(app, f"标签线索{n}", owner="lisi" if n % 2 else "zhang", tags=["展会", "华东"][: 1 + n % 2])
    many = count_queries(app, "/leads?size=100")
    assert len(few) == len(many), "\n".join(many)
    assert sum("leads_lead_tag" in s for s in many) == 1, "\n".join(many)


# -- the API ------------------------------------------------------------------------------------

@pytest.fixture
def api(app):
    with app.env.ctx() as ctx:
        tokens = {who: create_token(ctx, ctx.dbsession.get(User, app.users[who]), "sync", "write", 30)[0]
                  for who in ("zhang", "lisi", "wang")}
    client = PersonalApi(app, tokens)
    client.users, client.env = app.users, app.env
    return client


def test_the_api_reads_and_writes_tags(api):
    made = api.post("zhang", "/api/v1/leads", {"name": "接口标签公司", "tags": ["展会", " 重点 ", "展会"]},
                    status=201).json
    assert made["tags"] == ["展会", "重点"]
    lead_id = made["id"]
    before = api.get("zhang", f"/api/v1/leads/{lead_id}")
    patched = api.patch("zhang", f"/api/v1/leads/{lead_id}", {"tags": ["华东"]}).json
    assert patched["tags"] == ["华东"]
    assert patched["updated_at"] != before.json["updated_at"]  # tags alone make a new version
    api.patch("zhang", f"/api/v1/leads/{lead_id}", {"remarks": "备注"})
    assert api.get("zhang", f"/api/v1/leads/{lead_id}").json["tags"] == ["华东"]  # kept when not sent
    plain = api.post("zhang", "/api/v1/leads", {"name": "无标签公司"}, status=201).json
    listed = {item["id"]: item["tags"] for item in api.get("zhang", "/api/v1/leads").json["items"]}
    assert listed == {lead_id: ["华东"], plain["id"]: []}


def test_the_api_refuses_a_bad_tag_naming_the_field_and_writes_nothing(api):
    refused = problem(api.post("zhang", "/api/v1/leads", {"name": "坏标签接口公司", "tags": ["这" * 31]},
                               status=422), 422, "tag_name_invalid")
    assert [error["field"] for error in refused["errors"]] == ["tags"]
    too_many = problem(api.post("zhang", "/api/v1/leads", {"name": "多标签接口公司",
                                                           "tags": [f"标签{n}" for n in range(21)]}, status=422),
                       422, "too_many_lead_tags")
    assert [error["field"] for error in too_many["errors"]] == ["tags"]
    lead_id = api.post("zhang", "/api/v1/leads", {"name": "好标签接口公司", "tags": ["重点"]}, status=201).json["id"]
    api.patch("zhang", f"/api/v1/leads/{lead_id}", {"remarks": "不该保存", "tags": ["这" * 31]}, status=422)
    with api.env.ctx() as ctx:
        assert tags.tag_names(ctx, lead_id) == ["重点"]
        assert ctx.dbsession.get(Lead, lead_id).remarks is None
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 1
    api.patch("lisi", f"/api/v1/leads/{lead_id}", {"tags": ["抢"]}, status=404)
