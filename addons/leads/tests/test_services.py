"""Leads: create, edit, delete, follow-ups; bad input refused with nothing written; record
scopes on every path; a converted lead is read-only; every change audited."""

import datetime as dt
import decimal

import pytest
from sqlalchemy import func, select

from addons.customers.exceptions import ContentRequired, MobileInvalid, SourceUnavailable, UnknownChoice
from addons.leads import services
from addons.leads.exceptions import (
    BudgetInvalid,
    LeadConverted,
    LeadFieldTooLong,
    LeadNameRequired,
    StatusUnknown,
)
from addons.leads.models import Lead, LeadFollowup
from core.access.exceptions import PermissionDenied, RecordNotFound
from core.models import AuditEntry

from .conftest import as_user


def test_a_salesperson_creates_a_lead_they_own_and_it_is_audited(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        lead = services.create_lead(zhang, name=" 杭州云帆科技有限公司 ", contact_name="陈经理", mobile="138 0013 8000",
                                    source="展会", level="b", budget="120,000.5", requirement="CRM 替换")
        lead_id = lead.id
    with env.ctx() as ctx:
        lead = ctx.dbsession.get(Lead, lead_id)
        assert (lead.name, lead.owner_id, lead.status, lead.mobile, lead.level) == (
            "杭州云帆科技有限公司", users["zhang"], "new", "13800138000", "B")
        assert lead.budget == decimal.Decimal("120000.50") and lead.acquired_at is not None
        assert lead.name_key == "杭州云帆科技"
        entry = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.model == "leads_lead")).one()
        assert entry.action == "create" and entry.changes["owner_id"] == [None, users["zhang"]]


@pytest.mark.parametrize(("fields", "error"), [
    ({"name": "  "}, LeadNameRequired),
    ({"name": "甲", "mobile": "12345"}, MobileInvalid),
    ({"name": "甲", "budget": "-1"}, BudgetInvalid),
    ({"name": "甲", "budget": "很多"}, BudgetInvalid),
    ({"name": "甲", "budget": "1e20"}, BudgetInvalid),
    ({"name": "甲", "status": "converted"}, StatusUnknown),
    ({"name": "甲", "status": "won"}, StatusUnknown),
    ({"name": "甲", "source": "不存在的来源"}, SourceUnavailable),
    ({"name": "甲" * 201}, LeadFieldTooLong),
])
def test_bad_input_is_refused_and_nothing_is_written(company, fields, error):
    env, users = company
    with env.ctx() as ctx, pytest.raises(error):
        services.create_lead(as_user(ctx, users["zhang"]), **fields)
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Lead)) == 0


def test_edits_are_audited_and_a_converted_lead_is_read_only(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        lead_id = services.create_lead(zhang, name="宁波海联贸易").id
        services.update_lead(zhang, lead_id, status="qualified", remarks="预算已确认")
    with env.ctx() as ctx:
        changes = ctx.dbsession.scalars(select(AuditEntry.changes).where(
            AuditEntry.model == "leads_lead", AuditEntry.action == "update")).one()
        assert changes == {"status": ["new", "qualified"], "remarks": [None, "预算已确认"]}
        ctx.dbsession.get(Lead, lead_id).status = "converted"
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        with pytest.raises(LeadConverted):
            services.update_lead(zhang, lead_id, remarks="再改")
        with pytest.raises(LeadConverted):
            services.add_followup(zhang, lead_id, kind="phone", content="还能跟进吗")


def test_a_follow_up_starts_work_on_a_new_lead_and_moves_its_dates(company):
    env, users = company
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        lead_id = services.create_lead(zhang, name="苏州工业园区某公司").id
        next_at = ctx.now.replace(microsecond=0) + dt.timedelta(days=3)
        services.add_followup(zhang, lead_id, kind="phone", content="首次电话，约下周拜访", next_at=next_at,
                              next_step="上门演示")
        with pytest.raises(ContentRequired):
            services.add_followup(zhang, lead_id, kind="phone", content="  ")
        with pytest.raises(UnknownChoice):
            services.add_followup(zhang, lead_id, kind="fax", content="传真")
    with env.ctx() as ctx:
        lead = ctx.dbsession.get(Lead, lead_id)
        assert lead.status == "contacting" and lead.last_followup_at is not None
        assert lead.next_followup_at == next_at
        followups = services.list_followups(as_user(ctx, users["wang"]), lead_id)  # the manager reads them
        assert [(f.kind, f.next_step, f.owner.username) for f in followups] == [("phone", "上门演示", "zhangsan")]
        assert ctx.dbsession.scalar(select(func.count()).select_from(LeadFollowup)) == 1


def test_someone_elses_lead_is_not_found_and_a_role_without_create_may_not_add(company):
    env, users = company
    with env.ctx() as ctx:
        lead_id = services.create_lead(as_user(ctx, users["zhang"]), name="温州某鞋业").id
    with env.ctx() as ctx:
        lisi = as_user(ctx, users["lisi"])
        with pytest.raises(RecordNotFound):
            services.get_lead(lisi, lead_id)
        with pytest.raises(RecordNotFound):
            services.update_lead(lisi, lead_id, remarks="不是我的")
        assert services.get_lead(as_user(ctx, users["wang"]), lead_id).name == "温州某鞋业"  # department scope
    with env.ctx() as ctx:
        from core.users.services import create_user

        auditor = create_user(ctx, "shenji", "Audit-Trail-2026", roles=["auditor"])
        with pytest.raises(PermissionDenied):
            services.create_lead(ctx.as_user(auditor), name="审计员不建线索")


def test_scope_matrix_on_every_path(scope_matrix, catalog):
    matrix = scope_matrix(
        Lead, catalog=catalog, install=["leads"],
        make=lambda ctx, owner: services.create_lead(ctx, name=f"{owner.username}的线索", owner_id=owner.id),
    )

    def listed(ctx, action="read"):
        return [lead.id for lead in ctx.dbsession.scalars(services.leads_in_scope(ctx, action))]

    matrix.check(
        list=listed,
        count=lambda ctx: len(listed(ctx)),
        get=services.get_lead,
        update=lambda ctx, lead_id: services.update_lead(ctx, lead_id, remarks="changed"),
        delete=services.delete_lead,
        export=lambda ctx: listed(ctx, "export"),
    )
