"""The leads admin pages (``leads.pool:admin``): lead pools (bounded queries, refusals beside
their fields, nothing written), assignment rules with their condition rows and the "test this
rule against a sample lead" preview (which moves nothing), and the assignees' settings."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from addons.customers.tests.conftest import post
from addons.customers.tests.test_pages import login, zh
from addons.leads import admin_forms, assignment, exceptions, pool, services
from addons.leads.exceptions import (
    LeadPoolInUse,
    LeadPoolLimitInvalid,
    RuleConditionInvalid,
    RuleStrategyUnknown,
    RuleTargetMissing,
)
from addons.leads.models import Lead, LeadAssignee, LeadMove, LeadPool, LeadRule
from core.access.exceptions import PermissionDenied
from core.models import AuditEntry
from core.testing.queries import count_queries
from core.users.services import create_user

from .conftest import WANG, ZHANG, as_user

ADMIN = ("admin", "Kehu-Test-Pass-42")


def count(app, model, *where):
    with app.env.ctx() as ctx:
        return ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))


def audits(app, model, action=None):
    with app.env.ctx() as ctx:
        query = select(AuditEntry.changes).where(AuditEntry.model == model).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return ctx.dbsession.scalars(query).all()


def text(page):
    return " ".join(page.html.get_text(" ").split())


def make_pool(app, name, **fields):
    with app.env.ctx() as ctx:
        return pool.save_pool(ctx, name=name, **fields).id


def make_rule(app, **fields):
    with app.env.ctx() as ctx:
        return assignment.save_rule(ctx, **fields).id


def pool_lead(app, name, pool_id=None):
    with app.env.ctx() as ctx:  # the installation itself sees every pool
        return services.create_lead(ctx, name=name, pool_id=pool_id or pool.pools_for(ctx)[0].id).id


def snapshot(app, model, record_id, fields):
    with app.env.ctx() as ctx:
        record = ctx.dbsession.get(model, record_id)
        return {field: getattr(record, field) for field in fields}


POOL_FIELDS = ("name", "department_id", "max_claims_per_day", "max_open_per_user", "return_after_days", "active",
               "updated_at")
RULE_FIELDS = ("name", "priority", "active", "strategy", "conditions", "user_id", "department_id", "last_user_id",
               "updated_at")


# ---------------------------------------------------------------- permissions


def test_every_admin_page_opens_for_the_admin_and_is_refused_to_sales_and_managers(app):
    pool_id = make_pool(app, "华东线索池", department_id=app.users["east"])
    rule_id = make_rule(app, name="华东轮流", strategy="round_robin", department_id=app.users["east"])
    zhang = app.users["zhang"]
    pages = ["/leads/pools", "/leads/pools/new", f"/leads/pools/{pool_id}/edit", "/leads/rules", "/leads/rules/new",
             f"/leads/rules/{rule_id}/edit", "/leads/assignees", f"/leads/assignees/{zhang}"]
    login(app, ADMIN)
    for url in pages:
        app.get(url, status=200)
    app.get("/leads/pools/999999/edit", status=404)
    app.get("/leads/rules/999999/edit", status=404)
    for who in (ZHANG, WANG):  # a salesperson, a sales manager: no leads.pool:admin
        login(app, who)
        for url in pages:
            app.get(url, status=403)
        post(app, "/leads/pools/new", [("name", "偷建的池"), ("department_id", "0")], status=403)
        post(app, f"/leads/rules/{rule_id}/delete", [], status=403)
        post(app, f"/leads/rules/{rule_id}/preview", [("source", "展会")], status=403)
        post(app, f"/leads/assignees/{zhang}", [("weight", "9")], status=403)
    assert count(app, LeadPool, LeadPool.name == "偷建的池") == 0
    assert count(app, LeadRule) == 1
    assert count(app, LeadAssignee) == 0


def test_the_services_behind_the_pages_check_the_permission_too(app):
    rule_id = make_rule(app, name="给张三", strategy="user", user_id=app.users["zhang"])
    with app.env.ctx() as ctx:
        sales = as_user(ctx, app.users["zhang"])
        for call in (lambda: pool.pools_with_counts(sales), lambda: pool.get_pool(sales, 1),
                     lambda: assignment.rules_in_order(sales), lambda: assignment.delete_rule(sales, rule_id),
                     lambda: assignment.assignable_users(sales),
                     lambda: assignment.save_assignee(sales, app.users["zhang"], weight=3)):
            with pytest.raises(PermissionDenied):
                call()
    assert count(app, LeadRule) == 1


# ---------------------------------------------------------------- pools


def test_the_pools_page_shows_each_pools_leads_and_limits(app):
    east = make_pool(app, "华东线索池", department_id=app.users["east"], max_claims_per_day=5, max_open_per_user=30,
                     return_after_days=7)
    idle = make_pool(app, "旧线索池")
    for name in ("甲公司", "乙公司"):
        pool_lead(app, name, east)
    pool_lead(app, "丙公司")  # the default, company-wide pool
    with app.env.ctx() as ctx:
        pool.save_pool(ctx, idle, active=False)
    login(app, ADMIN)
    page = app.get("/leads/pools")
    row = page.html.select_one(f"#pool-{east}")
    assert row["data-held"] == "2"
    cells = row.select(".pool-department, .pool-held, .pool-limit")
    assert [td.get_text(strip=True) for td in cells] == ["华东大区", "2", "5", "30", "7"]
    assert page.html.select_one(f"#pool-{idle}")["data-held"] == "0"
    assert "text-body-secondary" in page.html.select_one(f"#pool-{idle}")["class"]  # inactive, listed last
    ids = [int(tr["id"].removeprefix("pool-")) for tr in page.html.select("#pools-table tbody tr")]
    assert ids[-1] == idle and len(ids) == 3


def test_the_pools_page_runs_the_same_few_queries_for_2_or_12_pools(app):
    for n in range(2):
        pool_lead(app, f"线索{n}", make_pool(app, f"线索池{n}"))
    login(app, ADMIN)
    few = count_queries(app, "/leads/pools")
    for n in range(2, 12):
        pool_lead(app, f"线索{n}", make_pool(app, f"线索池{n}", department_id=app.users["south"]))
    many = count_queries(app, "/leads/pools")
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 8, "\n".join(many)


POOL_FORM = [("name", "华东线索池"), ("department_id", "0"), ("max_claims_per_day", "5"),
             ("max_open_per_user", "20"), ("return_after_days", "7"), ("active", "y")]


def test_a_pool_is_created_and_changed_through_the_form(app):
    login(app, ADMIN)
    page = app.get("/leads/pools/new")
    assert page.html.select_one("#pool-form input[name=active]").has_attr("checked")
    form = [(k, str(app.users["east"]) if k == "department_id" else v) for k, v in POOL_FORM]
    post(app, "/leads/pools/new", form, status=303)
    with app.env.ctx() as ctx:
        created = ctx.dbsession.scalars(select(LeadPool).where(LeadPool.name == "华东线索池")).one()
        assert (created.department_id, created.max_claims_per_day, created.max_open_per_user,
                created.return_after_days, created.active) == (app.users["east"], 5, 20, 7, True)
        pool_id = created.id
    assert audits(app, "leads_pool", "create")[-1]["name"] == [None, "华东线索池"]
    page = app.get(f"/leads/pools/{pool_id}/edit")
    assert page.html.select_one("select[name=department_id] option[selected]")["value"] == str(app.users["east"])
    assert page.html.select_one("input[name=max_open_per_user]")["value"] == "20"
    changed = [("name", "华东线索池（新）"), ("department_id", "0"), ("max_claims_per_day", ""),
               ("max_open_per_user", "20"), ("return_after_days", "")]  # unticked: inactive
    post(app, f"/leads/pools/{pool_id}/edit", changed, status=303)
    assert snapshot(app, LeadPool, pool_id, POOL_FIELDS[:6]) == {
        "name": "华东线索池（新）", "department_id": None, "max_claims_per_day": None, "max_open_per_user": 20,
        "return_after_days": None, "active": False}
    assert audits(app, "leads_pool", "update")[-1] == {
        "name": ["华东线索池", "华东线索池（新）"], "department_id": [app.users["east"], None],
        "max_claims_per_day": [5, None], "return_after_days": [7, None], "active": [True, False]}


def test_a_refused_pool_shows_why_beside_the_field_and_writes_nothing(app):
    pool_id = make_pool(app, "华东线索池", max_claims_per_day=5)
    before = snapshot(app, LeadPool, pool_id, POOL_FIELDS)
    pools_before, audit_before = count(app, LeadPool), len(audits(app, "leads_pool"))
    login(app, ADMIN)
    cases = [("name", "  ", "name"), ("max_claims_per_day", "-3", "max_claims_per_day"),
             ("return_after_days", "0", "return_after_days"), ("max_open_per_user", "10001", "max_open_per_user")]
    for url in ("/leads/pools/new", f"/leads/pools/{pool_id}/edit"):
        for name, value, field in cases:
            form = [(k, value if k == name else v) for k, v in POOL_FORM]
            refused = post(app, url, form, status=200)
            assert refused.html.select_one(f"#pool-form [name={field}].is-invalid") is not None, (url, name)
            assert refused.html.select_one("#form-errors") is not None
    refused = post(app, "/leads/pools/new", [(k, "-3" if k == "max_claims_per_day" else v) for k, v in POOL_FORM])
    assert zh(LeadPoolLimitInvalid.message) in text(refused)
    assert snapshot(app, LeadPool, pool_id, POOL_FIELDS) == before
    assert (count(app, LeadPool), len(audits(app, "leads_pool"))) == (pools_before, audit_before)


def test_a_pool_holding_leads_stays_active_and_says_so_beside_the_box(app):
    pool_id = make_pool(app, "华东线索池")
    pool_lead(app, "甲公司", pool_id)
    login(app, ADMIN)
    form = [(k, v) for k, v in POOL_FORM if k != "active"]  # unticked
    refused = post(app, f"/leads/pools/{pool_id}/edit", form, status=200)
    assert refused.html.select_one("#pool-form input[name=active].is-invalid") is not None
    assert zh(LeadPoolInUse(pool="华东线索池", count=1).translation_string) in text(refused)
    assert snapshot(app, LeadPool, pool_id, ("name", "active", "max_claims_per_day")) == {
        "name": "华东线索池", "active": True, "max_claims_per_day": None}


# ---------------------------------------------------------------- rules


def rule_form(app, strategy="user", user="zhang", department=None, rows=(), **extra):
    pairs = [("name", extra.get("name", "展会大单")), ("priority", extra.get("priority", "10")), ("active", "y"),
             ("strategy", strategy), ("user_id", str(app.users.get(user, user or 0))),
             ("department_id", str(app.users[department]) if department else "0")]
    for n, (field, op, value) in enumerate([*rows, ("", "eq", ""), ("", "eq", "")]):
        pairs += [(f"cond-{n}-field", field), (f"cond-{n}-op", op), (f"cond-{n}-value", value)]
    return pairs


def test_a_rule_is_created_with_conditions_listed_in_words_changed_and_deleted(app):
    login(app, ADMIN)
    page = app.get("/leads/rules/new")
    assert len(page.html.select("#rule-conditions .condition-row")) == admin_forms.BLANK_ROWS
    rows = [("source", "in", "展会，官网"), ("budget", "gte", "100000")]
    post(app, "/leads/rules/new", rule_form(app, rows=rows), status=303)
    with app.env.ctx() as ctx:
        rule = ctx.dbsession.scalars(select(LeadRule)).one()
        assert (rule.name, rule.priority, rule.strategy, rule.user_id, rule.department_id, rule.active) == (
            "展会大单", 10, "user", app.users["zhang"], None, True)
        assert rule.conditions == [{"field": "source", "op": "in", "value": ["展会", "官网"]},
                                   {"field": "budget", "op": "gte", "value": "100000"}]
        rule_id = rule.id
    make_rule(app, name="兜底轮流", strategy="round_robin", department_id=app.users["east"], priority=200)
    listed = app.get("/leads/rules")
    items = listed.html.select("#rules-list > li")
    assert items[0]["id"] == f"rule-{rule_id}"  # by priority
    phrases = [span.get_text(strip=True) for span in items[0].select(".rule-condition")]
    assert phrases[0].startswith(zh(admin_forms.FIELD_LABELS["source"])) and phrases[0].endswith("展会、官网")
    assert phrases[1].endswith("≥ ¥100,000.00")
    assert items[0].select_one(".rule-target-name").get_text(strip=True) == "张三"
    assert items[1].select_one(".rule-target-name").get_text(strip=True) == "华东大区"
    assert items[1].select_one(".rule-condition-all") is not None  # no condition: every lead

    page = app.get(f"/leads/rules/{rule_id}/edit")
    assert page.html.select_one("#cond-0-field option[selected]")["value"] == "source"
    assert page.html.select_one("#cond-0-op option[selected]")["value"] == "in"
    assert page.html.select_one("#cond-0-value")["value"] == "展会, 官网"
    assert len(page.html.select("#rule-conditions .condition-row")) == 2 + admin_forms.BLANK_ROWS
    assert page.html.select_one("select[name=user_id] option[selected]")["value"] == str(app.users["zhang"])
    post(app, f"/leads/rules/{rule_id}/edit",
         rule_form(app, "least_loaded", user=None, department="east", rows=[("province", "eq", "浙江省")]), status=303)
    changed = snapshot(app, LeadRule, rule_id, RULE_FIELDS[:7])
    assert changed == {"name": "展会大单", "priority": 10, "active": True, "strategy": "least_loaded",
                       "conditions": [{"field": "province", "op": "eq", "value": "浙江省"}], "user_id": None,
                       "department_id": app.users["east"]}
    assert audits(app, "leads_rule", "update")[-1]["strategy"] == ["user", "least_loaded"]

    page = app.get(f"/leads/rules/{rule_id}/edit")
    assert page.html.select_one("#rule-delete")["data-confirm"]
    post(app, f"/leads/rules/{rule_id}/delete", [], status=303)
    assert count(app, LeadRule, LeadRule.id == rule_id) == 0
    assert audits(app, "leads_rule", "delete")[-1]["name"] == ["展会大单", None]
    app.get(f"/leads/rules/{rule_id}/edit", status=404)
    post(app, f"/leads/rules/{rule_id}/delete", [], status=404)


def test_a_bad_rule_gets_a_translated_error_and_nothing_is_written(app):
    login(app, ADMIN)
    cases = [  # the form, the refusal, where it shows
        (rule_form(app, strategy=""), RuleStrategyUnknown(strategy="—"), "select[name=strategy].is-invalid"),
        (rule_form(app, user=None), RuleTargetMissing(), "select[name=user_id].is-invalid"),
        (rule_form(app, user="999999"), RuleTargetMissing(), "select[name=user_id].is-invalid"),
        (rule_form(app, "round_robin", user=None), RuleTargetMissing(), "select[name=department_id].is-invalid"),
        (rule_form(app, rows=[("budget", "gte", "很多")]), RuleConditionInvalid(field="budget"), ".conditions-error"),
        (rule_form(app, rows=[("source", "eq", "")]), RuleConditionInvalid(field="source"), ".conditions-error"),
        (rule_form(app, rows=[("", "eq", "展会")]), RuleConditionInvalid(field="—"), ".conditions-error"),
        (rule_form(app, name=""), None, "input[name=name].is-invalid"),
    ]
    for pairs, error, where in cases:
        refused = post(app, "/leads/rules/new", pairs, status=200)
        assert refused.html.select_one(f"#rule-form {where}") is not None, where
        if error is not None:
            assert zh(error.translation_string) in text(refused), where
    assert count(app, LeadRule) == 0
    rule_id = make_rule(app, name="给张三", strategy="user", user_id=app.users["zhang"])
    before, audit_before = snapshot(app, LeadRule, rule_id, RULE_FIELDS), len(audits(app, "leads_rule"))
    refused = post(app, f"/leads/rules/{rule_id}/edit", rule_form(app, strategy="", rows=[("city", "eq", "杭州")]),
                   status=200)
    assert refused.html.select_one("#cond-0-value")["value"] == "杭州"  # the rows come back as typed
    assert snapshot(app, LeadRule, rule_id, RULE_FIELDS) == before
    assert len(audits(app, "leads_rule")) == audit_before


def test_the_preview_says_who_would_get_the_sample_and_moves_nothing(app):
    rule_id = make_rule(app, name="展会轮流", strategy="round_robin", department_id=app.users["east"],
                        conditions=[{"field": "source", "op": "in", "value": ["展会", "官网"]},
                                    {"field": "budget", "op": "gte", "value": "100000"}])
    waiting = pool_lead(app, "还在池里的公司")
    with app.env.ctx() as ctx:  # 王五 (first in turn) is on leave: 张三 is next
        assignment.save_assignee(ctx, app.users["wang"], away_until=dt.date(2099, 1, 1))
    before = snapshot(app, LeadRule, rule_id, RULE_FIELDS)
    moves, leads, audit = count(app, LeadMove), count(app, Lead), len(audits(app, "leads_rule"))
    login(app, ADMIN)
    page = app.get(f"/leads/rules/{rule_id}/edit")
    assert page.html.select_one("#preview-form")["hx-post"] == f"/leads/rules/{rule_id}/preview"
    sample = [("source", "展会"), ("industry", ""), ("level", ""), ("province", ""), ("city", ""), ("budget", "200000")]
    for _n in range(2):  # twice: the round robin's cursor did not move
        box = post(app, f"/leads/rules/{rule_id}/preview", sample, headers={"HX-Request": "true"})
        answer = box.html.select_one("#preview-answer")
        assert (answer["data-matched"], answer["data-owner"]) == ("yes", "张三")
        assert box.html.select_one("#preview-form select[name=source] option[selected]")["value"] == "展会"
        assert "<html" not in box.text  # the fragment only
    small = post(app, f"/leads/rules/{rule_id}/preview", [("source", "展会"), ("budget", "5000")])
    assert "<html" in small.text  # without htmx: a page of its own
    assert small.html.select_one("#preview-answer")["data-matched"] == "no"
    assert snapshot(app, LeadRule, rule_id, RULE_FIELDS) == before
    assert before["last_user_id"] is None
    assert (count(app, LeadMove), count(app, Lead), len(audits(app, "leads_rule"))) == (moves, leads, audit)
    assert snapshot(app, Lead, waiting, ("owner_id",)) == {"owner_id": None}


def test_the_preview_says_when_nobody_is_available(app):
    rule_id = make_rule(app, name="给王五", strategy="user", user_id=app.users["wang"])
    with app.env.ctx() as ctx:
        assignment.save_assignee(ctx, app.users["wang"], away_until=dt.date(2099, 1, 1))
    login(app, ADMIN)
    box = post(app, f"/leads/rules/{rule_id}/preview", [("source", "")], headers={"HX-Request": "true"})
    answer = box.html.select_one("#preview-answer")
    assert (answer["data-matched"], answer["data-owner"]) == ("yes", "")


# ---------------------------------------------------------------- assignees


def test_the_assignees_are_those_who_may_receive_leads_with_their_settings(app):
    with app.env.ctx() as ctx:
        auditor = create_user(ctx, "shenji", "Quiet-Lake-55", roles=["auditor"], display_name="审计").id
    login(app, ADMIN)
    page = app.get("/leads/assignees")
    listed = {int(tr["id"].removeprefix("assignee-")) for tr in page.html.select("#assignees-table tbody tr")}
    assert {app.users[who] for who in ("zhang", "lisi", "wang", "zhao")} <= listed
    assert auditor not in listed  # may not create leads: receives none
    app.get(f"/leads/assignees/{auditor}", status=404)
    zhang = app.users["zhang"]
    form = [("away_until", "2099-01-01"), ("weight", "5"), ("work_start", "09:00"), ("work_end", "18:00")]
    post(app, f"/leads/assignees/{zhang}", form, status=303)
    assert audits(app, "leads_assignee", "create")[-1] == {
        "away_until": [None, "2099-01-01"], "weight": [None, 5], "work_start": [None, "09:00"],
        "work_end": [None, "18:00"], "user_id": [None, zhang]}
    row = app.get("/leads/assignees").html.select_one(f"#assignee-{zhang}")
    assert row.select_one(".assignee-weight").get_text(strip=True) == "5"
    assert row.select_one(".assignee-away") is not None
    assert row.select_one(".assignee-hours").get_text(" ", strip=True).startswith("09:00–18:00")
    page = app.get(f"/leads/assignees/{zhang}")
    assert page.html.select_one("input[name=weight]")["value"] == "5"
    post(app, f"/leads/assignees/{zhang}", [("away_until", ""), ("weight", "5"), ("work_start", ""),
                                            ("work_end", "")], status=303)
    with app.env.ctx() as ctx:
        setting = ctx.dbsession.scalars(select(LeadAssignee).where(LeadAssignee.user_id == zhang)).one()
        assert (setting.away_until, setting.weight, setting.work_start, setting.work_end) == (None, 5, None, None)
    assert set(audits(app, "leads_assignee", "update")[-1]) == {"away_until", "work_start", "work_end"}


def test_bad_assignee_settings_are_refused_beside_the_field_and_nothing_is_written(app):
    zhang = app.users["zhang"]
    with app.env.ctx() as ctx:
        assignment.save_assignee(ctx, zhang, weight=3, work_start="09:00", work_end="18:00")
    good = {"away_until": "", "weight": "3", "work_start": "09:00", "work_end": "18:00"}
    login(app, ADMIN)
    cases = [({"weight": "11"}, "weight", exceptions.AssigneeWeightInvalid()),
             ({"weight": "0"}, "weight", exceptions.AssigneeWeightInvalid()),
             ({"weight": ""}, "weight", exceptions.AssigneeWeightInvalid()),
             ({"work_end": "08:00"}, "work_end", exceptions.AssigneeHoursInvalid()),
             ({"work_end": ""}, "work_end", exceptions.AssigneeHoursInvalid()),
             ({"work_start": "25:61"}, "work_start", None),
             ({"away_until": "2025-02-30"}, "away_until", None)]
    for change, field, error in cases:
        refused = post(app, f"/leads/assignees/{zhang}", list({**good, **change}.items()), status=200)
        assert refused.html.select_one(f"#assignee-form [name={field}].is-invalid") is not None, change
        if error is not None:
            assert zh(error.translation_string) in text(refused), change
    with app.env.ctx() as ctx:
        setting = ctx.dbsession.scalars(select(LeadAssignee).where(LeadAssignee.user_id == zhang)).one()
        assert (setting.weight, setting.work_start, setting.work_end) == (3, dt.time(9), dt.time(18))
    assert len(audits(app, "leads_assignee")) == 1
    with app.env.ctx() as ctx:
        for bad in ({"weight": "x"}, {"away_until": "明天"}, {"work_start": "9点", "work_end": "18:00"}):
            with pytest.raises((exceptions.AssigneeWeightInvalid, exceptions.AssigneeAwayInvalid,
                                exceptions.AssigneeHoursInvalid)):
                assignment.save_assignee(ctx, zhang, **bad)


def test_the_forms_labels_cover_the_services_fields_operators_and_strategies():
    from addons.leads.models import STRATEGIES

    assert set(admin_forms.FIELD_LABELS) == set(assignment.FIELDS)
    assert set(admin_forms.OP_LABELS) == set(assignment.OPS)
    assert set(admin_forms.STRATEGY_LABELS) == set(STRATEGIES)
