"""Automatic assignment (L3): rules by priority with conditions; a named user, round robin,
least loaded, weighted; people on leave or off work skipped; a lead no rule takes stays in the
pool; audited and notified with the rule; round robin fair under concurrent creates; bad rules
refused with nothing written; the preview moves nothing."""

import datetime as dt
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from addons.leads import assignment, services
from addons.leads.exceptions import RuleConditionInvalid, RuleNameRequired, RuleStrategyUnknown, RuleTargetMissing
from addons.leads.models import Lead, LeadAssignee, LeadRule
from core.access.exceptions import PermissionDenied
from core.models import AuditEntry
from core.notifications.models import Notification

from .conftest import as_user

EAST_PEOPLE = ("wang", "zhang", "lisi")  # by id: the round robin's order


def _owners(env, ids):
    with env.ctx() as ctx:
        return [ctx.dbsession.get(Lead, lead_id).owner_id for lead_id in ids]


def _create(env, users, count, **fields):
    ids = []
    for n in range(count):
        with env.ctx() as ctx:  # one request each, as the web form and the API would
            ids.append(services.create_lead(as_user(ctx, users["zhao"]), name=f"线索{n}{fields.get('source', '')}",
                                            assign=True, **fields).id)
    return ids


@pytest.mark.parametrize(("fields", "error"), [
    ({"name": "", "strategy": "user"}, RuleNameRequired),
    ({"name": "无动作", "strategy": ""}, RuleStrategyUnknown),
    ({"name": "查无此人", "strategy": "user", "user_id": 999999}, RuleTargetMissing),
    ({"name": "无部门", "strategy": "round_robin"}, RuleTargetMissing),
    ({"name": "无用户", "strategy": "user", "user_id": None}, RuleTargetMissing),
])
def test_a_bad_rule_is_refused_and_nothing_is_written(company, fields, error):
    env, _users = company
    with env.ctx() as ctx, pytest.raises(error):
        assignment.save_rule(ctx, **fields)
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(LeadRule)) == 0


def test_conditions_are_checked_and_only_admins_write_rules(company):
    env, users = company
    with env.ctx() as ctx:
        for condition in ({"field": "owner_id", "op": "eq", "value": "1"},
                          {"field": "budget", "op": "gte", "value": "多"},
                          {"field": "source", "op": "like", "value": "展"},
                          {"field": "source", "op": "in", "value": []}):
            with pytest.raises(RuleConditionInvalid):
                assignment.save_rule(ctx, name="坏条件", strategy="user", user_id=users["wang"],
                                     conditions=[condition])
        with pytest.raises(PermissionDenied):
            assignment.save_rule(as_user(ctx, users["wang"]), name="经理", strategy="user", user_id=users["wang"])


def test_rules_by_priority_and_a_lead_no_rule_takes_stays_in_the_pool(company):
    env, users = company
    with env.ctx() as ctx:
        assignment.save_rule(ctx, name="展会大单给经理", strategy="user", user_id=users["wang"], priority=10,
                             conditions=[{"field": "source", "op": "in", "value": ["展会"]},
                                         {"field": "budget", "op": "gte", "value": "100000"}])
        assignment.save_rule(ctx, name="浙江轮流", strategy="round_robin", department_id=users["east"], priority=20,
                             conditions=[{"field": "province", "op": "eq", "value": "浙江省"}])
    big = _create(env, users, 1, source="展会", budget="200000", province="浙江省")
    small = _create(env, users, 1, source="展会", budget="5000", province="浙江省")
    elsewhere = _create(env, users, 1, source="官网", province="上海市")
    assert _owners(env, big + small + elsewhere) == [users["wang"], users["wang"], None]  # wang is first in turn
    with env.ctx() as ctx:
        audit = ctx.dbsession.scalars(select(AuditEntry.changes).where(
            AuditEntry.model == "leads_lead", AuditEntry.record_id == str(big[0]), AuditEntry.action == "update")).one()
        assert audit == {"owner_id": [None, users["wang"]], "rule": [None, "展会大单给经理"]}
        note = ctx.dbsession.scalars(select(Notification).where(Notification.kind == "leads.assigned")).first()
        assert note.user_id == users["wang"] and "展会大单给经理" in note.body
        assert ctx.dbsession.get(Lead, elsewhere[0]).pool_id is not None


def test_round_robin_takes_turns_and_skips_people_away_or_off_work(company):
    env, users = company
    with env.ctx() as ctx:
        assignment.save_rule(ctx, name="华东轮流", strategy="round_robin", department_id=users["east"])
    ids = _create(env, users, 6)
    assert Counter(_owners(env, ids)) == {users[who]: 2 for who in EAST_PEOPLE}
    with env.ctx() as ctx:
        ctx.dbsession.add(LeadAssignee(user_id=users["zhang"], away_until=dt.date.today() + dt.timedelta(days=3),
                                       weight=1))
        local_now = ctx.now.astimezone(ZoneInfo("Asia/Shanghai"))
        start = (local_now + dt.timedelta(hours=1)).time().replace(microsecond=0)
        end = (local_now + dt.timedelta(hours=2)).time().replace(microsecond=0)
        if start < end:  # lisi works later today: off work now
            ctx.dbsession.add(LeadAssignee(user_id=users["lisi"], weight=1, work_start=start, work_end=end))
            expected = {users["wang"]}
        else:  # near midnight the window would wrap; leave lisi at work
            expected = {users["wang"], users["lisi"]}
    assert set(_owners(env, _create(env, users, 4))) == expected


def test_least_loaded_and_weighted(company):
    env, users = company
    with env.ctx() as ctx:
        for _n in range(3):
            services.create_lead(as_user(ctx, users["wang"]), name="王五手上的线索")
        services.create_lead(as_user(ctx, users["zhang"]), name="张三手上的线索")
        rule = assignment.save_rule(ctx, name="最闲的人", strategy="least_loaded", department_id=users["east"])
    assert _owners(env, _create(env, users, 1)) == [users["lisi"]]  # 0 open leads
    with env.ctx() as ctx:
        assignment.save_rule(ctx, rule.id, name="按经验", strategy="weighted", department_id=users["east"])
        ctx.dbsession.add(LeadAssignee(user_id=users["wang"], weight=10))  # 3 open / 10 = 0.3, the lowest
    assert _owners(env, _create(env, users, 1)) == [users["wang"]]


def test_the_preview_says_whom_and_moves_nothing(company):
    env, users = company
    with env.ctx() as ctx:
        rule = assignment.save_rule(ctx, name="华东轮流", strategy="round_robin", department_id=users["east"],
                                    conditions=[{"field": "source", "op": "eq", "value": "展会"}])
        assert assignment.preview(ctx, rule, {"source": "官网"}) == (False, None)
        assert assignment.preview(ctx, rule, {"source": "展会"}) == (True, users["wang"])
        assert assignment.preview(ctx, rule, {"source": "展会"}) == (True, users["wang"])  # the cursor stayed
    assert _owners(env, _create(env, users, 1, source="展会")) == [users["wang"]]


def test_round_robin_is_fair_under_concurrent_creates(company, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; fairness under concurrency needs concurrent transactions")
    env, users = company
    with env.ctx() as ctx:
        assignment.save_rule(ctx, name="华东轮流", strategy="round_robin", department_id=users["east"])
    barrier, made, errors = threading.Barrier(6, timeout=20), [], []

    def create(n):
        try:
            barrier.wait()
            with env.ctx() as ctx:
                made.append(services.create_lead(as_user(ctx, users["zhao"]), name=f"并发{n}", assign=True).id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Counter(_owners(env, made)) == {users[who]: 2 for who in EAST_PEOPLE}
