"""Lead → customer conversion (L4): one step makes the customer, its contact, carries the
follow-ups (authors, times, the plan ahead) and leaves the lead converted and read-only; a
company that is already a customer is linked instead; other addons join through
``leads_converted`` — installed later, without a restart — and a refusal undoes everything."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from addons.customers.exceptions import CustomerNameTaken
from addons.customers.models import Contact, Customer, Followup, FollowupPlan
from addons.customers.services import create_customer
from addons.leads import services
from addons.leads.conversion import convert_lead
from addons.leads.exceptions import LeadConverted, LeadNotQualified
from addons.leads.models import Lead
from core.access.exceptions import RecordNotFound
from core.addons.installer import install_addons
from core.models import AuditEntry
from tests.fixtures.addons.leadwatch import hooks as leadwatch

from .conftest import as_user


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("addons.customers", "addons.leads", "tests.fixtures.addons.leadwatch")


def _qualified_lead(env, users, **fields):
    with env.ctx() as ctx:
        zhang = as_user(ctx, users["zhang"])
        lead = services.create_lead(zhang, name=fields.pop("name", "杭州云帆科技有限公司"), contact_name="陈经理",
                                    mobile="13800138000", email="chen@yunfan.cn", source="展会", province="浙江省",
                                    requirement="替换旧 CRM", budget="80000", **fields)
        services.add_followup(zhang, lead.id, kind="phone", content="首次电话")
        services.add_followup(zhang, lead.id, kind="visit", content="上门演示，约下周报价",
                              next_at=ctx.now + dt.timedelta(days=5), next_step="发报价")
        services.update_lead(zhang, lead.id, status="qualified")
        return lead.id


def test_a_qualified_lead_becomes_a_customer_with_its_contact_and_follow_ups(company):
    env, users = company
    lead_id = _qualified_lead(env, users)
    with env.ctx() as ctx:
        conversion = convert_lead(as_user(ctx, users["zhang"]), lead_id)
    with env.ctx() as ctx:
        customer = ctx.dbsession.get(Customer, conversion.customer_id)
        assert (customer.name, customer.owner_id, customer.source, customer.province, customer.remarks) == (
            "杭州云帆科技有限公司", users["zhang"], "展会", "浙江省", "替换旧 CRM")
        contact = ctx.dbsession.get(Contact, conversion.contact_id)
        assert (contact.name, contact.mobile, contact.email, contact.owner_id) == (
            "陈经理", "13800138000", "chen@yunfan.cn", users["zhang"])
        followups = ctx.dbsession.scalars(select(Followup).where(Followup.customer_id == customer.id)
                                          .order_by(Followup.created_at, Followup.id)).all()
        assert [(f.kind, f.owner_id) for f in followups] == [("phone", users["zhang"]), ("visit", users["zhang"])]
        assert customer.last_followup_at == followups[-1].created_at
        plan = ctx.dbsession.scalars(select(FollowupPlan).where(FollowupPlan.customer_id == customer.id)).one()
        assert (plan.title, plan.owner_id, customer.next_followup_at) == ("发报价", users["zhang"], plan.due_at)
        lead = ctx.dbsession.get(Lead, lead_id)
        assert (lead.status, lead.customer_id, lead.converted_at is not None) == ("converted", customer.id, True)
        audited = ctx.dbsession.scalars(select(AuditEntry.changes).where(
            AuditEntry.model == "leads_lead", AuditEntry.record_id == str(lead_id)).order_by(AuditEntry.id)).all()
        assert audited[-1] == {"status": ["qualified", "converted"], "customer_id": [None, customer.id]}
    with env.ctx() as ctx, pytest.raises(LeadConverted):
        convert_lead(as_user(ctx, users["zhang"]), lead_id)


def test_only_a_qualified_lead_of_ones_own_converts_and_a_refusal_writes_nothing(company):
    env, users = company
    with env.ctx() as ctx:
        lead_id = services.create_lead(as_user(ctx, users["zhang"]), name="还在接触的线索").id
    with env.ctx() as ctx, pytest.raises(LeadNotQualified):
        convert_lead(as_user(ctx, users["zhang"]), lead_id)
    with env.ctx() as ctx:
        services.update_lead(as_user(ctx, users["zhang"]), lead_id, status="qualified")
    with env.ctx() as ctx, pytest.raises(RecordNotFound):
        convert_lead(as_user(ctx, users["lisi"]), lead_id)  # not lisi's lead
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 0
        assert ctx.dbsession.get(Lead, lead_id).status == "qualified"


def test_a_company_already_a_customer_is_linked_not_duplicated(company):
    env, users = company
    with env.ctx() as ctx:
        existing = create_customer(as_user(ctx, users["lisi"]), name="杭州云帆科技股份有限公司").id
    lead_id = _qualified_lead(env, users)
    with env.ctx() as ctx, pytest.raises(CustomerNameTaken):
        convert_lead(as_user(ctx, users["zhang"]), lead_id)
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Contact)) == 0  # nothing half-written
        with pytest.raises(RecordNotFound):  # lisi's customer: zhang asks for it (申请转移) first
            convert_lead(as_user(ctx, users["zhang"]), lead_id, customer_id=existing)
        conversion = convert_lead(as_user(ctx, users["wang"]), lead_id, customer_id=existing)  # their manager
    assert (conversion.customer_id, conversion.created_customer) == (existing, False)
    with env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer)) == 1
        assert ctx.dbsession.scalar(select(func.count()).select_from(Followup)) == 2


def test_an_addon_installed_later_joins_the_conversion_and_may_refuse_it(company, catalog):
    env, users = company
    leadwatch.CALLS.clear()
    first = _qualified_lead(env, users, name="第一家")
    with env.ctx() as ctx:
        convert_lead(as_user(ctx, users["zhang"]), first)
    assert leadwatch.CALLS == []  # not installed: never asked
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["leadwatch"])
    second, third = _qualified_lead(env, users, name="第二家"), _qualified_lead(env, users, name="第三家")
    with env.ctx() as ctx:
        convert_lead(as_user(ctx, users["zhang"]), second, options={"opportunity": {"title": "CRM 项目"}})
    (seen,) = leadwatch.CALLS
    assert (seen.lead_id, seen.lead_name, seen.created_customer, seen.options["opportunity"]["title"]) == (
        second, "第二家", True, "CRM 项目")
    assert str(seen.budget) == "80000.00" and seen.owner_id == users["zhang"]
    with env.ctx() as ctx, pytest.raises(leadwatch.OpportunityRefused):
        convert_lead(as_user(ctx, users["zhang"]), third, options={"opportunity": {"refuse": True}})
    with env.ctx() as ctx:
        assert ctx.dbsession.get(Lead, third).status == "qualified"
        assert ctx.dbsession.scalar(select(func.count()).select_from(Customer).where(Customer.name == "第三家")) == 0
